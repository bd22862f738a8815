"""Playbook texts shared by the core tests (the two seed processes, in small)."""

from __future__ import annotations

SEED_PLAYBOOK = """\
key: seed_process
name: {zh: 种子流程, en: Seed process}
currency: CNY
contact_roles:
  - {key: cto, name: CTO}
  - {key: purchasing_director, name: {zh: 采购总监, en: Purchasing director}}
  - {key: plant_manager, name: {zh: 生产厂长, en: Plant manager}}
  - {key: general_manager, name: {zh: 总经理, en: General manager}}
  - {key: cfo, name: {zh: 财务总监, en: CFO}}
  - {key: equipment_manager, name: {zh: 设备部经理, en: Equipment manager}}
  - {key: chief_engineer, name: {zh: 总工程师, en: Chief engineer}}
  - {key: legal_counsel, name: {zh: 法务, en: Legal counsel}}
attachment_kinds:
  - {key: meeting_minutes, name: {zh: 会议纪要, en: Meeting minutes}}
  - {key: signed_quote, name: {zh: 签字报价单, en: Signed quote}}
  - {key: tech_agreement, name: {zh: 技术协议, en: Technical agreement}}
event_types:
  - {key: integration.requested, name: {zh: 客户提出集成需求, en: Integration requested}}
fields:
  - key: budget_confirmed
    type: boolean
    name: {zh: 预算范围已确认, en: Budget range confirmed}
  - key: signing_period
    type: choice
    name: {zh: 预计签约周期, en: Expected signing period}
    choices:
      - {key: within_1m, name: {zh: 1个月内, en: Within 1 month}}
      - {key: within_3m, name: {zh: 3个月内, en: Within 3 months}}
    required_to_exit: [quote]
  - key: signer_role
    type: contact_role
    name: {zh: 客户签字人职务, en: Customer signer's role}
  - key: legal_review_overdue_days
    type: number
    name: {zh: 法务审核超时天数, en: Legal review overdue days}
  - key: budget_amount
    type: money
    name: {zh: 预算金额, en: Budget amount}
  - key: poc_date
    type: date
    name: {zh: POC 日期, en: POC date}
  - key: competitor
    type: text
    name: {zh: 竞争对手, en: Competitor}
  - key: integrations
    type: multi_choice
    name: {zh: 集成需求, en: Integrations}
    choices: [erp, mes, wecom]
stages:
  - key: first_contact
    name: {zh: 初步接触, en: First contact}
    probability: 0.05
    target_dwell: 7d
  - key: demo
    name: {zh: 产品演示, en: Product demo}
    probability: 0.3
    target_dwell: 5d
    exit:
      - id: decision_makers
        label: {zh: 决策人参与, en: Decision-makers attended}
        count:
          of: contacts
          where: {is_decision_maker: true, attended: true}
          at_least: 2
      - id: budget
        field: budget_confirmed
        eq: true
      - id: minutes
        attachment: {kind: meeting_minutes}
  - key: tech_confirmed
    name: {zh: 技术方案确认, en: Technical solution confirmed}
    probability: 0.5
    exit:
      - id: agreement
        attachment: {kind: tech_agreement, types: [pdf, jpg]}
      - id: signer
        field: signer_role
        in: [cto, purchasing_director, plant_manager]
      - id: confirmed
        event: {type: chat.message, text_contains: 已确认}
  - key: quote
    name: {zh: 报价完成, en: Quote done}
    probability: 0.7
    exit:
      - id: quote_signed
        attachment: {kind: signed_quote, types: [pdf, jpg], min_chars: 20}
      - id: big_enough
        cel: "deal.amount >= 10000.0"
  - key: won
    name: {zh: 赢单, en: Won}
    probability: 1.0
    terminal: won
  - key: lost
    name: {zh: 输单, en: Lost}
    terminal: lost
triggers:
  - id: demo_prep
    on: demo.booked
    task:
      title: {zh: 准备行业案例包 + 设置试用账号, en: Prepare case pack and trial account}
      due: 2h
  - id: proposal
    on: demo.held
    task:
      title: {zh: 发送定制化方案, en: Send tailored proposal}
      due: 24h
forecast:
  formula: repurchase_rate * 0.4 + stage_weight * 0.3 - legal_review_overdue_days * 0.3
"""

"""Industry playbook templates (行业模板): ready-made YAML playbooks a company starts from.

Each template is one playbook file in this package, loaded and checked by
:func:`lodestar.core.playbook.load_playbook` like any other playbook::

    from lodestar.industry_templates import load_template, template_source

    playbook = load_template("saas_b2b")            # a validated Playbook
    text = template_source("industrial_equipment")  # the YAML, to copy and edit

The format is described in ``docs/playbooks.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lodestar.core.playbook import Playbook

__all__ = [
    "TEMPLATES",
    "TemplateInfo",
    "UnknownTemplate",
    "list_templates",
    "load_template",
    "template_path",
    "template_source",
]


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    """One template as a picker shows it."""

    key: str
    name_zh: str
    name_en: str
    source: str  # which seed case or trade it follows


_INFO: tuple[TemplateInfo, ...] = (
    TemplateInfo("saas_b2b", "B2B SaaS 七阶段销售流程", "B2B SaaS seven-stage sales process",
                 "seed 000"),
    TemplateInfo("industrial_equipment", "工业自动化设备分销销售流程",
                 "Industrial automation equipment distribution", "seed 001"),
    TemplateInfo("fmcg_distributor", "快消品代理商终端门店流程",
                 "FMCG distributor: retail outlet development", "seed 001 (快消品代理商)"),
    TemplateInfo("medical_devices", "医疗器械经销商诊所销售流程",
                 "Medical device dealer: clinic sales", "seed 001 (医疗器械经销商)"),
    TemplateInfo("auto_aftersales_store", "汽车后市场门店维修保养流程",
                 "Car after-sales store: service and repair", "seed 001 (汽车后市场门店)"),
)  # fmt: skip

#: Template key → its YAML file inside this package.
TEMPLATES: dict[str, Traversable] = {
    info.key: resources.files(__name__).joinpath(f"{info.key}.yaml") for info in _INFO
}


class UnknownTemplate(KeyError):
    """No template has this key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"unknown industry template '{self.key}'; known: {', '.join(TEMPLATES)}"


def list_templates() -> list[TemplateInfo]:
    """Every template, in the order a picker shows them."""
    return list(_INFO)


def template_path(key: str) -> Traversable:
    """The packaged YAML file of template ``key``."""
    try:
        return TEMPLATES[key]
    except KeyError:
        raise UnknownTemplate(key) from None


def template_source(key: str) -> str:
    """The YAML text of template ``key`` (what a new organization's first draft starts from)."""
    return template_path(key).read_text(encoding="utf-8")


def load_template(key: str) -> Playbook:
    """Template ``key`` parsed and validated (raises ``PlaybookInvalid`` if it is broken)."""
    from lodestar.core.playbook import load_playbook

    return load_playbook(template_source(key), f"{key}.yaml")

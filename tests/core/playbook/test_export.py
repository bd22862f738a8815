"""Exporting a playbook as YAML text."""

from __future__ import annotations

from lodestar.core.playbook import dump_playbook, load_playbook
from tests.core.samples import SEED_PLAYBOOK


def test_it_reads_back_to_an_equal_playbook() -> None:
    playbook = load_playbook(SEED_PLAYBOOK, "seed.yaml")

    assert load_playbook(dump_playbook(playbook), "export.yaml") == playbook


def test_it_keeps_chinese_readable_and_sections_in_order() -> None:
    text = dump_playbook(load_playbook(SEED_PLAYBOOK, "seed.yaml"))

    assert "产品演示" in text
    assert text.index("stages:") < text.index("triggers:") < text.index("forecast:")


def test_it_leaves_out_values_equal_to_their_defaults() -> None:
    text = dump_playbook(load_playbook(SEED_PLAYBOOK, "seed.yaml"))

    assert "health:" not in text
    assert "sla:" not in text

"""Every response carries the security headers; no page needs inline script or style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

import lodestar

TEMPLATES = sorted(Path(lodestar.__file__).resolve().parent.glob("*/templates/**/*.html"))


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (directive.split() for directive in header.split(";") if directive)
    }


@pytest.mark.parametrize(
    "path",
    ["/login/", "/api/v1/docs", "/admin/login/", "/no-such-page/", "/api/v1/me"],
)
def test_it_allows_only_this_servers_scripts_and_styles(db: None, path: str) -> None:
    policy = policy_of(Client().get(path))
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_it_sends_the_referrer_and_permissions_policies(db: None) -> None:
    response = Client().get("/login/")
    assert response["Referrer-Policy"] == "same-origin"
    features = dict(
        item.strip().split("=", 1) for item in response["Permissions-Policy"].split(",")
    )
    assert features["camera"] == features["microphone"] == features["geolocation"] == "()"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_no_template_has_inline_script_handlers_or_styles(template: Path) -> None:
    text = template.read_text()
    assert not re.search(r"\son[a-z]+\s*=", text), "an inline event handler (onclick=…)"
    assert not re.search(r"\sstyle\s*=|<style", text), "an inline style"
    assert not re.search(r"\shx-on[:-]", text), "hx-on runs its code with eval"
    inline_scripts = [
        tag
        for tag in re.findall(r"<script\b[^>]*>", text)
        if "src=" not in tag and 'type="application/json"' not in tag
    ]
    assert not inline_scripts

"""The error pages: styled, translated, with what to do next and a way home (DEBUG off)."""

from __future__ import annotations

import pytest
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def _bad_request(request: HttpRequest) -> HttpResponse:
    raise BadRequest


def _denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def _broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError


urlpatterns = [
    path("errors/400/", _bad_request),
    path("errors/403/", _denied),
    path("errors/500/", _broken),
    path("", include("lodestar.urls")),
]

HEADINGS = {
    ("400", "en"): "Bad request",
    ("400", "zh-hans"): "请求有误",
    ("403", "en"): "Access denied",
    ("403", "zh-hans"): "无权访问",
    ("404", "en"): "Page not found",
    ("404", "zh-hans"): "页面不存在",
    ("500", "en"): "Something went wrong",
    ("500", "zh-hans"): "出错了",
}
HOME_LINK = {"en": "Back to the home page", "zh-hans": "返回首页"}


def assert_error_page(body: str, heading: str, language: str) -> None:
    assert f'<html lang="{language}">' in body
    assert f'<h1 id="error-h">{heading}</h1>' in body
    assert f'<a href="/">{HOME_LINK[language]}</a>' in body
    assert "web/app.css" in body  # styled by the site's sheet, nothing inline for the CSP
    for inline in ("<style", "<script", "style="):
        assert inline not in body


@pytest.mark.parametrize(("status", "language"), sorted(HEADINGS))
def test_each_error_page_in_the_language_asked_for(status: str, language: str) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=language, raise_request_exception=False)
    url = "/no-such-page/" if status == "404" else f"/errors/{status}/"

    response = client.get(url)

    assert response.status_code == int(status)
    assert_error_page(response.content.decode(), HEADINGS[status, language], language)


def test_the_language_cookie_chooses_the_error_pages_language() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "zh-hans"

    response = client.get("/no-such-page/")

    assert_error_page(response.content.decode(), "页面不存在", "zh-hans")


@pytest.mark.parametrize(
    ("language", "heading"), [("en", "The form has expired"), ("zh-hans", "表单已失效")]
)
def test_a_form_without_its_csrf_token_gets_the_sites_page(language: str, heading: str) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=language, enforce_csrf_checks=True)

    response = client.post("/login/", {"username": "x", "password": "y"})

    assert response.status_code == 403
    assert_error_page(response.content.decode(), heading, language)

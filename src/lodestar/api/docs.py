"""The API docs page, served entirely from this server (no CDN).

django-ninja ships Swagger UI in its package's static folder but loads it from a CDN unless
`ninja` is an installed app. We render our own page and serve those bundled files through a small
whitelisted endpoint, so the docs work offline whatever the settings say.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ninja
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from ninja.openapi.docs import DocsBase

from lodestar.errors import NotFound

if TYPE_CHECKING:
    from ninja import NinjaAPI

__all__ = ["ASSETS", "OfflineSwagger", "asset_response"]

_NINJA_STATIC = Path(ninja.__file__).resolve().parent / "static" / "ninja"
ASSETS = frozenset(
    {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-init.js", "favicon.svg", "favicon.png"}
)


class OfflineSwagger(DocsBase):
    template = "api/swagger.html"

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        namespace = api.urls_namespace
        swagger_settings = {
            "url": reverse(f"{namespace}:openapi-json", kwargs=kwargs),
            "layout": "BaseLayout",
            "deepLinking": True,
            "persistAuthorization": True,
        }
        asset_url = reverse(f"{namespace}:docs_asset", kwargs={"name": "NAME"})
        context = {
            "api": api,
            "swagger_settings": json.dumps(swagger_settings),
            "css_url": asset_url.replace("NAME", "swagger-ui.css"),
            "bundle_url": asset_url.replace("NAME", "swagger-ui-bundle.js"),
            "init_url": asset_url.replace("NAME", "swagger-ui-init.js"),
            "favicon_url": asset_url.replace("NAME", "favicon.svg"),
            # Session-authenticated calls from the page send the CSRF token (ninja's init script).
            "add_csrf": True,
        }
        return render(request, self.template, context)


def asset_response(name: str) -> FileResponse:
    """One of Swagger UI's bundled files; anything else is not found."""
    if name not in ASSETS:
        raise NotFound()
    path = _NINJA_STATIC / name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(path.open("rb"), content_type=content_type)
    # The files change only with the installed django-ninja version.
    response["Cache-Control"] = "public, max-age=86400"
    return response

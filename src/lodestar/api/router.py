"""The REST API root: one NinjaAPI, one error shape, routers per app."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(
    title="Lodestar API",
    version="1",
    description="销售导航系统 Lodestar — everything the pages can do, over REST.",
    urls_namespace="api",
)

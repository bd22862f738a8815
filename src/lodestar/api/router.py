"""The REST API root: one NinjaAPI, one error shape, routers per app."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest
from ninja import NinjaAPI

from lodestar.api.auth import default_auth
from lodestar.api.docs import OfflineSwagger, asset_response
from lodestar.api.exports import router as exports_router
from lodestar.api.parsing import JsonParser
from lodestar.api.throttling import CallerThrottle
from lodestar.automation.api import router as automation_router
from lodestar.crm.api import router as crm_router
from lodestar.crm.attachments_api import router as attachments_router
from lodestar.crm.search_api import router as crm_search_router
from lodestar.events.api import router as events_router
from lodestar.gates.api import router as gates_router
from lodestar.imports.api import router as imports_router
from lodestar.insights.api import router as insights_router
from lodestar.insights.daily_reports_api import router as daily_reports_router
from lodestar.insights.knowledge_api import router as knowledge_router
from lodestar.insights.weekly_api import router as weekly_reports_router
from lodestar.integrations.api import router as integrations_router
from lodestar.integrations.outbound_api import router as webhooks_router
from lodestar.ops.api import router as ops_router
from lodestar.org.api import router as org_router
from lodestar.playbooks.api import router as playbooks_router
from lodestar.rest.errors import install_error_handlers

api = NinjaAPI(
    title="Lodestar API",
    version="1",
    description=(
        "销售导航系统 Lodestar — everything the pages can do, over REST. "
        "Authenticate with a personal token (`Authorization: Bearer lsk_…`, "
        "created with `lodestar token create USER`) or a browser session. "
        'Every error has the body `{"code", "message", "details": [{"field", "message"}]}`.'
    ),
    urls_namespace="api",
    auth=default_auth(),
    throttle=[CallerThrottle()],
    docs=OfflineSwagger(),
    parser=JsonParser(),
)
# The parameter names our views give to body and query schemas; error fields drop them.
install_error_handlers(api, wrappers={"payload", "filters"})

# First: each list's `…/export` must be matched before the list's `…/{id}`.
api.add_router("", exports_router)
api.add_router("", org_router)
# Before the CRM router: /accounts/duplicates must be matched before /accounts/{account_id}.
api.add_router("", crm_search_router)
api.add_router("", crm_router)
api.add_router("", attachments_router)
api.add_router("", gates_router)
api.add_router("", playbooks_router)
api.add_router("", events_router)
api.add_router("", insights_router)
api.add_router("", knowledge_router)
api.add_router("", weekly_reports_router)
api.add_router("", daily_reports_router)
api.add_router("", automation_router)
api.add_router("", integrations_router)
api.add_router("", webhooks_router)
api.add_router("", ops_router)
api.add_router("/imports", imports_router)


@api.get("/docs/assets/{name}", auth=None, include_in_schema=False, url_name="docs_asset")
def docs_asset(request: HttpRequest, name: str) -> FileResponse:
    return asset_response(name)

"""A deal's files from its page: opened in the browser when their type is safe, else saved.

Both views answer with `lodestar.crm.downloads.attachment_response` (the API's
`GET /api/v1/attachments/{id}/content` too), for people who see the file's deal only: anyone
else gets 404, as for the deal page.
"""

from __future__ import annotations

from django.http import FileResponse
from django.views.decorators.http import require_GET

from lodestar.crm.downloads import attachment_response
from lodestar.crm.selectors import access_attachment
from lodestar.org.requests import AuthenticatedHttpRequest
from lodestar.web.access import member_view

__all__ = ["attachment_download", "attachment_open"]


@require_GET
@member_view
def attachment_open(request: AuthenticatedHttpRequest, attachment_id: int) -> FileResponse:
    """PDF, PNG, JPEG and plain text open in a tab; any other type is downloaded."""
    attachment = access_attachment(user=request.user, attachment_id=attachment_id)
    return attachment_response(attachment)


@require_GET
@member_view
def attachment_download(request: AuthenticatedHttpRequest, attachment_id: int) -> FileResponse:
    """Always saved, under the file's original name."""
    attachment = access_attachment(user=request.user, attachment_id=attachment_id)
    return attachment_response(attachment, download=True)

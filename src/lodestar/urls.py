from django.contrib import admin
from django.urls import include, path

from lodestar.api.router import api
from lodestar.ops.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("lodestar.integrations.urls")),
    path("", include("lodestar.web.urls")),
]

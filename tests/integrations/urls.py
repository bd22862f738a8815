"""The site's URLs plus the integrations app's, as the lead is asked to mount them."""

from django.urls import include, path

from lodestar.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("", include("lodestar.integrations.urls")), *site_urlpatterns]

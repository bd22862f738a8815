"""Django's admin application, serving the organization-scoped site (`admin_site`).

A module of its own: `INSTALLED_APPS` loads it before any model exists, so it names the site by
its dotted path only.
"""

from django.contrib.admin.apps import AdminConfig


class LodestarAdminConfig(AdminConfig):
    default_site = "lodestar.org.admin_site.LodestarAdminSite"

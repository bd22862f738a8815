from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "lodestar.org"
    label = "org"
    verbose_name = _("Organizations and people")

    def ready(self) -> None:
        import lodestar.db  # noqa: F401 - registers the `__among` lookup every app may use

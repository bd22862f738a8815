from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "lodestar.web"
    label = "web"
    verbose_name = _("Pages")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from lodestar.web.caching import publish_changes, watch_writes

        # Every connection, in every process (web, worker, CLI): its committed writes make the
        # pages' kept HTML and data stale (see `lodestar.web.caching`).
        connection_created.connect(watch_writes, dispatch_uid="lodestar.web.watch_writes")
        publish_changes()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "lodestar.automation"
    label = "automation"
    verbose_name = _("Tasks and triggers")

    def ready(self) -> None:
        # Imported here, once the models are loaded: each user's open tasks show in their
        # calendar feed.
        from lodestar.automation.calendar import task_events
        from lodestar.integrations.calendar.sources import register_source

        register_source(task_events)

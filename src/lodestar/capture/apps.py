from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaptureConfig(AppConfig):
    name = "lodestar.capture"
    label = "capture"
    verbose_name = _("Activity capture")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = _("Alerts")

    def ready(self) -> None:
        from alerts import receivers  # noqa: F401
        from alerts.channels import channels_register_from_settings

        channels_register_from_settings()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        # DingTalk's tasks live below the app: Celery's autodiscovery only imports
        # `integrations.tasks`.
        from integrations.dingtalk import receivers, tasks  # noqa: F401

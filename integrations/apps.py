from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        # DingTalk's tasks live below the app: Celery's autodiscovery only imports
        # `integrations.tasks`.
        from django.core import checks

        from integrations.dingtalk import receivers, tasks  # noqa: F401

        checks.register(_derived_secrets_key, checks.Tags.security)
        from integrations.dingtalk.channels import register

        register()


def _derived_secrets_key(app_configs, **kwargs):
    import sys

    from django.conf import settings
    from django.core import checks

    if not getattr(settings, "SECRETS_KEY_DERIVED", False):
        return []
    if sys.argv[1:2] and sys.argv[1] in getattr(settings, "KEYLESS_COMMANDS", ()):
        return []  # a build step stores no secrets
    return [
        checks.Warning(
            "SECRETS_KEY is not set: connection secrets are encrypted with a key derived from "
            "SECRET_KEY (development only).",
            hint="Set SECRETS_KEY to a Fernet key before storing real secrets.",
            id="integrations.W001",
        )
    ]

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.demo import demo_alerts_seed


class Command(BaseCommand):
    help = "Add the demo company's alerts in every state (after seed_demo)."

    def handle(self, *args, **options):
        result = demo_alerts_seed(today=timezone.localdate())
        self.stdout.write(
            _("Demo alerts: %(alerts)s (new: %(created)s).")
            % {"alerts": result.alerts, "created": result.created}
        )

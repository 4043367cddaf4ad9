from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.demo import demo_connections_seed


class Command(BaseCommand):
    help = "Add the demo company's Salesforce and ERP connections with a run log each."

    def handle(self, *args, **options):
        result = demo_connections_seed(now=timezone.now())
        self.stdout.write(_("Demo connections: %(n)s new.") % {"n": result.created})

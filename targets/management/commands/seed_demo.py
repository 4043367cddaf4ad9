from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from targets.demo import DEMO_PASSWORD, demo_company_seed
from targets.demo_metrics import demo_metrics_seed


def _one_decimal(value) -> str:
    return "—" if value is None else f"{value:.1f}"


class Command(BaseCommand):
    help = "Load the demo company (SPEC §11); running it again adds only what is missing."

    def handle(self, *args, **options):
        summary = demo_company_seed(today=timezone.localdate())
        self.stdout.write(
            _(
                "Demo company %(company)s: %(people)s people, %(targets)s targets, "
                "%(deals)s deals (new this run: %(new_people)s people, %(new_targets)s "
                "targets, %(new_deals)s deals)."
            )
            % {
                "company": summary.company,
                "people": summary.people,
                "targets": summary.targets,
                "deals": summary.deals,
                "new_people": summary.created_people,
                "new_targets": summary.created_targets,
                "new_deals": summary.created_deals,
            }
        )
        self.stdout.write(
            _(
                "%(period)s (last closed quarter): average rep completion %(completion)s %%, "
                "regions' volatility %(volatility)s."
            )
            % {
                "period": summary.last_closed_period,
                "completion": _one_decimal(summary.average_rep_completion),
                "volatility": _one_decimal(summary.regions_volatility),
            }
        )
        metrics = demo_metrics_seed(today=timezone.localdate())
        self.stdout.write(
            _(
                "Process metrics: %(metrics)s, %(values)s weekly values from %(activities)s "
                "synced activities and imports."
            )
            % {
                "metrics": metrics.metrics,
                "values": metrics.values,
                "activities": metrics.activities,
            }
        )
        self.stdout.write(
            _(
                "Log in as admin, director, hrbp, finance, mgr_east … or rep001 … with password “%(password)s”."
            )
            % {"password": DEMO_PASSWORD}
        )

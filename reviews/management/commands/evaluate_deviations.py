from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from reviews.deviations import deviations_evaluate
from targets.periods import IsoWeek, PeriodError


class Command(BaseCommand):
    help = "Evaluate the deviation trigger for one ISO week (default: last week)."

    def add_arguments(self, parser):
        parser.add_argument("--week", help="An ISO week like 2025-W20 (default: last week).")

    def handle(self, *args, week: str | None = None, **options):
        try:
            iso_week = IsoWeek.parse(week) if week else IsoWeek.of(timezone.localdate()).previous()
        except PeriodError as error:
            raise CommandError(str(error)) from error
        result = deviations_evaluate(week=iso_week)
        self.stdout.write(
            _(
                "%(week)s: %(targets)s targets, %(evaluated)s evaluated, %(no_data)s without "
                "data, %(off_plan)s off plan, %(cases_opened)s cases opened, %(skipped)s "
                "already evaluated."
            )
            % vars(result)
        )

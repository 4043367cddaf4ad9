from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from targets.recompute import figures_recompute


class Command(BaseCommand):
    help = "Recompute the figures of the current quarter's targets now and announce them."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="Date to compute as of, YYYY-MM-DD (default: today).")

    def handle(self, *args, as_of: str | None = None, **options):
        try:
            day = date.fromisoformat(as_of) if as_of else None
        except ValueError as exc:
            raise CommandError(_("--as-of must be a date like 2025-05-15.")) from exc
        summary = figures_recompute(as_of=day)
        self.stdout.write(
            _(
                "%(period)s as of %(as_of)s: %(targets)s targets — %(red)s red, "
                "%(yellow)s yellow, %(green)s green, %(none)s without status."
            )
            % summary
        )

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from reviews.demo import demo_reviews_seed
from reviews.meeting_demo import demo_meetings_seed


class Command(BaseCommand):
    help = "Add the demo company's proposals and adjustment case (after seed_demo)."

    def handle(self, *args, **options):
        result = demo_reviews_seed(today=timezone.localdate())
        self.stdout.write(
            _("Adjustment proposals: %(proposals)s (new: %(created)s); open cases: %(cases)s.")
            % {"proposals": result.proposals, "created": result.created, "cases": result.open_cases}
        )
        meetings = demo_meetings_seed(today=timezone.localdate())
        self.stdout.write(_("Review meetings created: %(count)s.") % {"count": meetings})

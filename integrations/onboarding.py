"""The setup checklist (issue 7 §9): from an empty database to a live dashboard, what is done
(the data exists) and where each step is taken — for an administrator who is not a developer.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Exists, Q
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from targets import access
from targets.models import Deal, OrgUnit, Role, Target, User

from .freshness import DATA_KINDS
from .models import Connection

COMPLETE_KEY = "integrations:setup-complete"


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    done: bool
    detail: str
    url: str
    action: str
    help: str


def _imports(kind: str) -> str:
    return reverse("imports") + "?" + urlencode({"kind": kind})


def setup_steps() -> list[Step]:
    """Each step with its count; one statement per count, whatever the size of the data."""
    companies = OrgUnit.objects.filter(parent__isnull=True).count()
    units = OrgUnit.objects.count()
    people = User.objects.filter(role_assignments__role=Role.REP).distinct().count()
    targets = Target.objects.count()
    connections = Connection.objects.filter(kind__in=DATA_KINDS).count()
    synced = Connection.objects.filter(kind__in=DATA_KINDS, last_success_at__isnull=False).count()
    deals = Deal.objects.count()
    return [
        Step(
            "company",
            _("Company"),
            companies > 0,
            ngettext("%(n)s company", "%(n)s companies", companies) % {"n": companies},
            reverse("admin:targets_orgunit_add"),
            _("Add the company"),
            _("The root of the organisation; its settings hold the status thresholds."),
        ),
        Step(
            "org",
            _("Org chart"),
            units > companies,
            ngettext("%(n)s unit", "%(n)s units", units) % {"n": units},
            _imports("org"),
            _("Import the org chart"),
            _("Regions and teams from the XLSX template (sheet “Units”)."),
        ),
        Step(
            "people",
            _("People"),
            people > 0,
            ngettext("%(n)s sales rep", "%(n)s sales reps", people) % {"n": people},
            _imports("org"),
            _("Import people"),
            _(
                "Reps, managers, directors, HRBP and finance with their teams and roles "
                "(sheet “People”)."
            ),
        ),
        Step(
            "targets",
            _("Targets"),
            targets > 0,
            ngettext("%(n)s target", "%(n)s targets", targets) % {"n": targets},
            _imports("targets"),
            _("Import targets"),
            _(
                "Base and Stretch per unit and rep: download the quarter's template, fill it, "
                "import it."
            ),
        ),
        Step(
            "connection",
            _("First connection"),
            connections > 0,
            ngettext("%(n)s connection", "%(n)s connections", connections) % {"n": connections},
            reverse("admin:integrations_connection_add"),
            _("Connect Salesforce or the ERP"),
            _("Where actuals come from; its secrets are stored encrypted and never shown."),
        ),
        Step(
            "sync",
            _("First sync"),
            synced > 0,
            ngettext("%(n)s deal", "%(n)s deals", deals) % {"n": deals},
            reverse("admin:integrations_syncrun_changelist"),
            _("See the run log"),
            _(
                "A connection's first successful run; deal history can also come from a CSV "
                "or XLSX import."
            ),
        ),
    ]


def setup_complete() -> bool:
    """One statement while setup is incomplete; none once it is complete (remembered)."""
    if cache.get(COMPLETE_KEY):
        return True
    # The root unit's row carries the other answers: no company yet, nothing done.
    row = (
        OrgUnit.objects.filter(parent__isnull=True)
        .order_by()
        .annotate(
            has_org=Exists(OrgUnit.objects.filter(parent__isnull=False)),
            has_people=Exists(User.objects.filter(role_assignments__role=Role.REP)),
            has_targets=Exists(Target.objects.all()),
            has_sync=Exists(
                Connection.objects.filter(Q(kind__in=DATA_KINDS) & Q(last_success_at__isnull=False))
            ),
        )
        .values_list("has_org", "has_people", "has_targets", "has_sync")
        .first()
    )
    complete = row is not None and all(row)
    if complete:
        cache.set(COMPLETE_KEY, True, None)
    return complete


def setup_context(request) -> dict:
    """Context processor: `setup_incomplete` for the header's link, read only for admins."""

    def load() -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not access.can_manage_organisation(user):
            return False
        return not setup_complete()

    return {"setup_incomplete": SimpleLazyObject(load)}

"""The import kinds (SPEC §10 `imports/`): one registry the API, the page and the templates
read. A new kind (metric values) registers an `Importer` here and nothing else changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from targets import access
from targets.models import User

from . import import_templates
from .imports import ImportResult, deals_import
from .imports_org import org_import
from .imports_targets import targets_import
from .metric_imports import metric_values_import


@dataclass(frozen=True)
class Importer:
    kind: str
    label: Promise
    help: Promise
    # run(*, stream, size, user, dry_run, keep_good_rows, period) -> ImportResult
    run: Callable[..., ImportResult]
    may_import: Callable[[User], bool]
    template: Callable[[User, str | None], tuple[bytes, str]]


IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    IMPORTERS[importer.kind] = importer
    return importer


def importers_for(user: User) -> list[Importer]:
    return [i for i in IMPORTERS.values() if i.may_import(user)]


def _without_period(run: Callable[..., ImportResult]) -> Callable[..., ImportResult]:
    """An import that needs no quarter, called as the registry calls every kind."""

    def call(
        *,
        stream: IO[bytes],
        size: int,
        user: User,
        dry_run: bool,
        keep_good_rows: bool,
        period: str | None = None,
    ) -> ImportResult:
        return run(
            stream=stream, size=size, user=user, dry_run=dry_run, keep_good_rows=keep_good_rows
        )

    return call


register(
    Importer(
        kind="deals",
        label=_("Deals"),
        help=_(
            "Columns: external_id, account, owner or owner_email, amount, close_date; "
            "optional stage, won, splits."
        ),
        run=_without_period(deals_import),
        may_import=access.can_manage_organisation,
        template=lambda user, period: import_templates.deals_template(),
    )
)
register(
    Importer(
        kind="org",
        label=_("Org chart and people"),
        help=_(
            "Units (code, name, parent code, kind) and people (username, display name, "
            "e-mail, team code, role, role unit code, in the team since): two sheets of an "
            "XLSX, or one CSV of either."
        ),
        run=org_import,
        may_import=access.can_manage_organisation,
        template=lambda user, period: import_templates.org_template(),
    )
)
register(
    Importer(
        kind="targets",
        label=_("Targets"),
        help=_(
            "The quarter grid's XLSX (export it from “Set targets” or download the template), "
            "or a CSV with the same columns and the quarter named below."
        ),
        run=targets_import,
        may_import=access.may_import_targets,
        template=import_templates.targets_template,
    )
)


register(
    Importer(
        kind="metric_values",
        label=_("Process-metric values"),
        help=_(
            "Weekly values per rep: metric (its code), username or e-mail, week (2025-W20), value."
        ),
        run=_without_period(metric_values_import),
        may_import=access.can_manage_organisation,
        template=lambda user, period: import_templates.metric_values_template(),
    )
)

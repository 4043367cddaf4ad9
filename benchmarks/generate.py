"""A generated company for the benchmark, written with set-based SQL (PostgreSQL only).

One `INSERT … SELECT generate_series(…)` per table, never a Python loop over rows, so
2,000,000 deals load in well under the two-minute goal. Every row is what the services
would have written: deals come from the ERP (so they need no confirmation) and each deal
gets the credit rows `deal_save_credits` would give it — one 100 % credit to the owner, or,
for one deal in twenty, a 60/40 split with a teammate whose leftover cent goes to the 60 %.
One rep in 25 moves to a team of another region in the middle of a quarter, with the
membership history `user_move_team` writes; each credit carries the rep's team on its close
date, as `credits_assign_teams` tags it. Every number is derived from the row's index by integer arithmetic, so two runs generate
the same company.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction

from targets import services
from targets.models import (
    Credit,
    Deal,
    OrgUnit,
    OrgUnitClosure,
    Role,
    RoleAssignment,
    Target,
    TeamMembership,
    User,
)
from targets.periods import Quarter

# Every deal whose id is a multiple of this is shared 60/40 with a teammate (≈ 5 %).
SHARED_EVERY = 20
OWNER_PERCENT, PARTNER_PERCENT = 60, 40
# Rep k moves to a team of another region when k % MOVE_EVERY == MOVE_OFFSET (4 %): in the
# middle of one of the year's quarters, so that quarter's deals are split between two teams.
MOVE_EVERY, MOVE_OFFSET = 25, 7
MOVE_DAY_IN_QUARTER = 45


@dataclass(frozen=True)
class CompanySize:
    prefix: str
    reps: int
    deals: int
    regions: int
    team_size: int = 10
    year: int = 2025

    @property
    def teams(self) -> int:
        return self.reps // self.team_size

    @property
    def units(self) -> int:
        return 1 + self.regions + self.teams

    @property
    def quarters(self) -> tuple[Quarter, ...]:
        return tuple(Quarter(self.year, q) for q in range(1, 5))

    @property
    def targets(self) -> int:
        return (self.units + self.reps) * len(self.quarters)

    @property
    def first_day(self) -> date:
        return self.quarters[0].start

    @property
    def days(self) -> int:
        return (self.quarters[-1].end - self.first_day).days + 1

    @property
    def company_name(self) -> str:
        return f"{self.prefix} company"

    @property
    def director_username(self) -> str:
        return f"{self.prefix}_director"

    @property
    def rep_prefix(self) -> str:
        return f"{self.prefix}_rep_"

    def __post_init__(self) -> None:
        # A shared deal's partner is a teammate; a team of one has none.
        if self.team_size < 2 or self.reps % self.team_size or self.teams < self.regions:
            raise ValueError("reps must fill teams of at least two, and teams cover regions")


BENCH = CompanySize(prefix="bench", reps=10_000, deals=2_000_000, regions=10)
# Big enough that a first page of 500 holds rep targets only, like the large company's.
SMALL = CompanySize(prefix="small", reps=600, deals=120_000, regions=3)
TINY = CompanySize(prefix="tiny", reps=20, deals=2_000, regions=2)


class DifferentCompany(RuntimeError):
    """The database holds a company by that name, but not of the expected size."""


@dataclass
class Generation:
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    skipped: bool = False


def _company(size: CompanySize) -> OrgUnit | None:
    return OrgUnit.objects.filter(name=size.company_name, parent__isnull=True).first()


def _counts(size: CompanySize) -> dict[str, int]:
    reps = User.objects.filter(username__startswith=size.rep_prefix)
    return {
        "reps": reps.count(),
        "deals": Deal.objects.filter(owner__in=reps).count(),
        "targets": Target.objects.filter(company=_company(size)).count(),
    }


def is_generated(size: CompanySize) -> bool:
    """All of it is there; a partial company cannot exist (generation is one transaction)."""
    if _company(size) is None:
        return False
    expected = {"reps": size.reps, "deals": size.deals, "targets": size.targets}
    found = _counts(size)
    if found != expected:
        raise DifferentCompany(
            f"The database holds a different '{size.prefix}' company ({found}, expected "
            f"{expected}); run with --regenerate."
        )
    return True


def holds_other_data() -> bool:
    foreign_users = User.objects.exclude(username__regex=r"^(bench|small|tiny)_").exists()
    foreign_units = OrgUnit.objects.exclude(name__regex=r"^(bench|small|tiny) ").exists()
    return foreign_users or foreign_units


def wipe(size: CompanySize) -> None:
    """Empty every table, but only in a database holding nothing but generated companies."""
    if holds_other_data():
        raise RuntimeError("This database holds data that was not generated; refusing to wipe it.")
    tables = [
        m._meta.db_table
        for m in (
            Credit,
            Deal,
            Target,
            RoleAssignment,
            TeamMembership,
            OrgUnitClosure,
            User,
            OrgUnit,
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def _rep_numbers(size: CompanySize) -> str:
    """The generated reps numbered 0…reps-1 in username order (usernames are zero-padded)."""
    return f"""
        SELECT id, team_id, (row_number() OVER (ORDER BY username) - 1)::int AS k
        FROM {User._meta.db_table} WHERE starts_with(username, '{size.rep_prefix}')
    """


def _insert_units(cursor, size: CompanySize, company: OrgUnit) -> None:
    units = OrgUnit._meta.db_table
    cursor.execute(
        f"""
        INSERT INTO {units} (name, kind, parent_id, status_red_below, status_green_above)
        SELECT %s || ' region ' || lpad(r::text, 2, '0'), 'region', %s, 60, 80
        FROM generate_series(1, %s) r
        """,
        [size.prefix, company.pk, size.regions],
    )
    teams_per_region = -(-size.teams // size.regions)
    cursor.execute(
        f"""
        INSERT INTO {units} (name, kind, parent_id, status_red_below, status_green_above)
        SELECT %s || ' team ' || lpad(t::text, 5, '0'), 'team', region.id, 60, 80
        FROM generate_series(0, %s - 1) t
        JOIN (
            SELECT id, (row_number() OVER (ORDER BY name) - 1)::int AS i
            FROM {units} WHERE parent_id = %s
        ) region ON region.i = t / %s
        ORDER BY t
        """,
        [size.prefix, size.teams, company.pk, teams_per_region],
    )


def _insert_reps(cursor, size: CompanySize, company: OrgUnit) -> None:
    units, closure = OrgUnit._meta.db_table, OrgUnitClosure._meta.db_table
    cursor.execute(
        f"""
        INSERT INTO {User._meta.db_table} (
            password, is_superuser, username, first_name, last_name, email, is_staff,
            is_active, date_joined, display_name, team_id, language, dingtalk_userid
        )
        SELECT '!', false, %(rep)s || lpad(k::text, 5, '0'), '', '',
               %(rep)s || k || '@example.com', false, true, now(), 'Rep ' || k, team.id, '', ''
        FROM generate_series(0, %(reps)s - 1) k
        JOIN (
            SELECT unit.id, (row_number() OVER (ORDER BY unit.name) - 1)::int AS i
            FROM {units} unit JOIN {closure} tree ON tree.descendant_id = unit.id
            WHERE tree.ancestor_id = %(company)s AND unit.kind = 'team'
        ) team ON team.i = k / %(team_size)s
        ORDER BY k
        """,
        {
            "rep": size.rep_prefix,
            "reps": size.reps,
            "company": company.pk,
            "team_size": size.team_size,
        },
    )
    _move_some_reps(cursor, size, company)
    cursor.execute(
        f"""
        INSERT INTO {RoleAssignment._meta.db_table} (user_id, role, unit_id)
        SELECT id, %s, team_id FROM ({_rep_numbers(size)}) rep
        """,
        [Role.REP],
    )


def _move_some_reps(cursor, size: CompanySize, company: OrgUnit) -> None:
    """Every rep's membership history, as `user_move_team` writes it (SPEC §2).

    Most reps stay in their first team all year. One in MOVE_EVERY moves, in the middle of
    one of the quarters, to the team half the company away (another region): its first
    membership closes the day before, the second opens that day and is the current team.
    """
    units, closure = OrgUnit._meta.db_table, OrgUnitClosure._meta.db_table
    memberships, users = TeamMembership._meta.db_table, User._meta.db_table
    movers = f"""
        SELECT rep.id, new_team.id AS team_id,
               (%(starts)s::date[])[(rep.k / %(every)s) %% %(quarters)s + 1] + %(day)s AS since
        FROM ({_rep_numbers(size)}) rep
        JOIN (
            SELECT unit.id, (row_number() OVER (ORDER BY unit.name) - 1)::int AS i
            FROM {units} unit JOIN {closure} tree ON tree.descendant_id = unit.id
            WHERE tree.ancestor_id = %(company)s AND unit.kind = 'team'
        ) new_team ON new_team.i = (rep.k / %(team_size)s + %(teams)s / 2) %% %(teams)s
        WHERE rep.k %% %(every)s = %(offset)s
    """
    params = {
        "starts": [q.start for q in size.quarters],
        "quarters": len(size.quarters),
        "every": MOVE_EVERY,
        "offset": MOVE_OFFSET,
        "day": MOVE_DAY_IN_QUARTER,
        "company": company.pk,
        "team_size": size.team_size,
        "teams": size.teams,
        "first": date(2000, 1, 1),
    }
    cursor.execute(
        f"""
        INSERT INTO {memberships} (user_id, team_id, valid_from, valid_to)
        SELECT rep.id, rep.team_id, %(first)s, mover.since - 1
        FROM ({_rep_numbers(size)}) rep LEFT JOIN ({movers}) mover ON mover.id = rep.id
        """,
        params,
    )
    cursor.execute(
        f"""
        INSERT INTO {memberships} (user_id, team_id, valid_from, valid_to)
        SELECT id, team_id, since, NULL FROM ({movers}) mover
        """,
        params,
    )
    cursor.execute(
        f"""
        UPDATE {users} rep SET team_id = mover.team_id
        FROM ({movers}) mover WHERE mover.id = rep.id
        """,
        params,
    )


def _insert_targets(cursor, size: CompanySize, company: OrgUnit) -> None:
    """Reps' Base varies by rep and quarter; a unit's Base is 95 % of its reps' sum."""
    quarters = size.quarters
    cursor.execute(
        f"""
        INSERT INTO {Target._meta.db_table} (
            period, period_start, period_end, measure, owner_unit_id, owner_user_id,
            company_id, base, stretch, original_base, original_stretch, base_bonus,
            stretch_bonus, version, created_at, updated_at
        )
        WITH quarter AS (
            SELECT * FROM unnest(%(labels)s::text[], %(starts)s::date[], %(ends)s::date[])
                AS q(period, period_start, period_end)
        ),
        rep AS ({_rep_numbers(size)}),
        rep_target AS (
            SELECT quarter.*, rep.id AS user_id, rep.team_id,
                   (2500000 + ((rep.k * 7 + extract(quarter FROM period_start)::int * 3) %% 51)
                    * 100000)::numeric(16, 2) AS base
            FROM rep CROSS JOIN quarter
        ),
        unit_target AS (
            SELECT period, period_start, period_end, tree.ancestor_id AS unit_id,
                   round(sum(base) * 0.95, -2) AS base
            FROM rep_target JOIN {OrgUnitClosure._meta.db_table} tree
                 ON tree.descendant_id = rep_target.team_id
            GROUP BY period, period_start, period_end, tree.ancestor_id
        )
        SELECT period, period_start, period_end, 'revenue', NULL, user_id, %(company)s,
               base, base * 1.5, base, base * 1.5, 20000, 30000, 1, now(), now()
        FROM rep_target
        UNION ALL
        SELECT period, period_start, period_end, 'revenue', unit_id, NULL, %(company)s,
               base, base * 1.5, base, base * 1.5, NULL, NULL, 1, now(), now()
        FROM unit_target
        """,
        {
            "labels": [q.label for q in quarters],
            "starts": [q.start for q in quarters],
            "ends": [q.end for q in quarters],
            "company": company.pk,
        },
    )


def _insert_deals(cursor, size: CompanySize) -> None:
    """Deal g belongs to rep g mod reps; amounts 20,000–200,000 CNY; about 90 % won.

    Rows go in by close date, as a live CRM would have delivered them.
    """
    cursor.execute(
        f"""
        INSERT INTO {Deal._meta.db_table} (
            source, external_id, account, owner_id, amount, stage, won, close_date,
            source_modified_at, created_at, updated_at
        )
        SELECT 'erp', %(prefix)s || '-' || lpad(g::text, 8, '0'), '客户 ' || (g %% 50000) || ' 有限公司',
               rep.id, ((2000000 + (g * 48271) %% 18000017) / 100.0)::numeric(16, 2),
               CASE WHEN won THEN 'Closed Won' ELSE 'Closed Lost' END, won, close_date,
               now(), now(), now()
        FROM (
            SELECT g, g %% %(reps)s AS k,
                   (g / %(reps)s * 7 + g %% %(reps)s * 3) %% 10 <> 0 AS won,
                   %(first_day)s::date + ((g * 7919 + g / %(reps)s) %% %(days)s)::int
                       AS close_date
            FROM generate_series(0::bigint, %(deals)s - 1) g
        ) deal
        JOIN ({_rep_numbers(size)}) rep ON rep.k = deal.k
        ORDER BY close_date, g
        """,
        {
            "prefix": size.prefix,
            "reps": size.reps,
            "deals": size.deals,
            "first_day": size.first_day,
            "days": size.days,
        },
    )


def _insert_credits(cursor, size: CompanySize) -> None:
    """The rows `deal_save_credits` writes: whole cents, the leftover cent to the larger share."""
    cursor.execute(
        f"""
        INSERT INTO {Credit._meta.db_table} (
            deal_id, user_id, team_id, percent, amount_cents, close_date, close_month, counts
        )
        SELECT deal.id, share.user_id, membership.team_id, share.percent, share.cents,
               deal.close_date, date_trunc('month', deal.close_date)::date, deal.won
        FROM (
            SELECT d.id, d.owner_id, d.close_date, d.won, (d.amount * 100)::bigint AS cents,
                   partner.id AS partner_id
            FROM {Deal._meta.db_table} d
            JOIN ({_rep_numbers(size)}) owner ON owner.id = d.owner_id
            LEFT JOIN ({_rep_numbers(size)}) partner
                 ON d.id %% %(every)s = 0
                AND partner.k = owner.k - owner.k %% %(team_size)s
                                + (owner.k + 1) %% %(team_size)s
        ) deal
        CROSS JOIN LATERAL (VALUES
            (deal.owner_id,
             CASE WHEN deal.partner_id IS NULL THEN 100 ELSE %(owner_pct)s END,
             CASE WHEN deal.partner_id IS NULL THEN deal.cents
                  ELSE deal.cents - deal.cents * %(partner_pct)s / 100 END),
            (deal.partner_id, %(partner_pct)s, deal.cents * %(partner_pct)s / 100)
        ) share (user_id, percent, cents)
        -- The team on the close date (SPEC §2), as `credits_assign_teams` tags it.
        JOIN {TeamMembership._meta.db_table} membership
             ON membership.user_id = share.user_id
            AND membership.valid_from <= deal.close_date
            AND (membership.valid_to IS NULL OR membership.valid_to >= deal.close_date)
        WHERE share.user_id IS NOT NULL
        ORDER BY deal.close_date, deal.id
        """,
        {
            "every": SHARED_EVERY,
            "team_size": size.team_size,
            "owner_pct": OWNER_PERCENT,
            "partner_pct": PARTNER_PERCENT,
        },
    )


@contextmanager
def _bulk_load(cursor, *models) -> Iterator[None]:
    """Fill these tables without upkeep per row, then restore every index and constraint.

    Their secondary indexes, unique constraints and foreign keys are dropped first and put
    back after, each rebuilt in one pass: an index by one sort, a foreign key by one join
    that checks every row (left in place, the deferred checks ran one lookup per row at
    commit). All of it inside the generation's transaction, so nothing is ever missing.
    """
    tables = [m._meta.db_table for m in models]
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE contype IN ('f', 'u') AND conrelid = ANY(%s::regclass[])
        ORDER BY contype DESC
        """,
        [tables],
    )
    constraints = cursor.fetchall()  # unique ones first: a foreign key may need one back
    cursor.execute(
        """
        SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
        WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = indexrelid)
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    quote = connection.ops.quote_name
    # Run the deferred checks of the rows written so far: a table with pending checks
    # cannot be altered, nor referenced by a foreign key being added.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table, name, _definition in reversed(constraints):
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    yield
    for _name, definition in indexes:
        cursor.execute(definition)
    for table, name, definition in constraints:
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def generate(size: CompanySize, *, vacuum: bool = True) -> Generation:
    """Write the whole company in one transaction: it is there completely or not at all.

    `vacuum=False` leaves out the closing VACUUM ANALYZE, which cannot run inside a
    transaction (as in a test).
    """
    result = Generation()
    started = time.perf_counter()

    def step(name: str, since: float) -> float:
        now = time.perf_counter()
        result.steps[name] = now - since
        return now

    mark = started
    with transaction.atomic(), connection.cursor() as cursor:
        company = services.org_unit_save(name=size.company_name, kind="company", parent=None)
        services.user_save(
            username=size.director_username,
            display_name="Director",
            roles=[services.RoleGrant(role=Role.SALES_DIRECTOR, unit=company)],
        )
        _insert_units(cursor, size, company)
        services.org_tree_rebuild()
        _insert_reps(cursor, size, company)
        mark = step("org units, reps, roles, closure", mark)
        _insert_targets(cursor, size, company)
        mark = step("targets", mark)
        with _bulk_load(cursor, Deal, Credit):
            _insert_deals(cursor, size)
            mark = step("deals", mark)
            _insert_credits(cursor, size)
            mark = step("credits", mark)
        mark = step("indexes and constraints of deals and credits, rebuilt", mark)
    mark = step("commit", mark)
    if vacuum:
        # Also sets the visibility map, without which the covering credit index cannot
        # answer from the index alone.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        step("vacuum analyze", mark)
    result.seconds = time.perf_counter() - started
    return result


def ensure(size: CompanySize, *, regenerate: bool = False) -> Generation:
    if regenerate:
        wipe(size)
    elif is_generated(size):
        return Generation(skipped=True)
    elif holds_other_data():
        # DATABASE_URL may well name someone's working database: never fill that one.
        raise RuntimeError(
            "This database holds data that was not generated; point BENCH_DATABASE_URL "
            "(or DATABASE_URL) at a database of the benchmark's own."
        )
    return generate(size)

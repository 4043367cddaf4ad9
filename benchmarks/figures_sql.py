"""Every figure of every target in one hand-written PostgreSQL statement: the bench's baseline.

`figures_for` loads targets, sums credits per (target, month) with roll-ups through the
closure table, sums children's Base, then derives the SPEC §5 rates in Python. The statement
below does all of that in the database and hands back the same outputs — actual, monthly
actuals and completion, completion, pace, expected Base, status, stretch progress, incentive,
allocated Base and allocation coverage — so timing one against the other compares like work.

Comparison rule (`compare`): amounts are exact on both sides (whole cents). Every ratio is
rounded to ten decimal places, half away from zero: the statement rounds the exact quotient
with integer division; `figures_for` holds a quotient correctly rounded to 28 significant
digits, which rounds to the same ten places as long as no denominator reaches 10^14 (a
quotient that is not itself a midpoint lies at least 1 / (2·10^10·d) from one). Statuses
compare the exact rate with the thresholds. Then every value must be equal: no tolerance.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.db import connection

from targets.models import Credit, Measure, OrgUnit, OrgUnitClosure, Target, TeamMembership

PLACES = 10
QUANTUM = Decimal(1).scaleb(-PLACES)


class Outputs(NamedTuple):
    actual: Decimal
    month_actuals: tuple[Decimal, Decimal, Decimal]
    month_completions: tuple[Decimal | None, Decimal | None, Decimal | None]
    completion: Decimal | None
    pace: Decimal | None
    expected_base: Decimal | None
    status: str | None
    stretch_progress: Decimal | None
    incentive: Decimal | None
    allocated_base: Decimal | None
    allocation_coverage: Decimal | None


def _ratio(numerator: str, denominator: str) -> str:
    """numerator / denominator rounded to PLACES decimals, half away from zero; NULL on / 0.

    Exact: `div` truncates the exact quotient of two numerics, so adding half the divisor
    first rounds; the scale-down is a multiplication, which numeric does without loss.
    """
    n, d = f"({numerator})", f"NULLIF({denominator}, 0)"
    return f"sign{n} * div(abs{n} * 2e{PLACES} + {d}, 2 * {d}) * 1e-{PLACES}"


def _statement() -> str:
    targets, units = Target._meta.db_table, OrgUnit._meta.db_table
    credits, closure = Credit._meta.db_table, OrgUnitClosure._meta.db_table
    memberships = TeamMembership._meta.db_table
    month = [_ratio(f"m{i}_cents * 100 * wd", f"base_cents * w{i}") for i in (1, 2, 3)]
    return f"""
WITH target AS (
    SELECT t.id, t.period, t.measure, t.period_start, t.period_end,
           t.owner_user_id, t.owner_unit_id,
           t.base, (t.base * 100)::bigint AS base_cents, (t.stretch * 100)::bigint AS stretch_cents,
           t.base_bonus, t.stretch_bonus,
           company.status_red_below AS red_below, company.status_green_above AS green_above,
           -- phasing weights over a common denominator wd: default equal thirds are 1/3 each
           COALESCE(t.weight_m1, 1) AS w1, COALESCE(t.weight_m2, 1) AS w2,
           COALESCE(t.weight_m3, 1) AS w3, CASE WHEN t.weight_m1 IS NULL THEN 3 ELSE 1 END AS wd
    FROM {targets} t JOIN {units} company ON company.id = t.company_id
),
-- Credits of counting deals closed by as_of: per (rep, month) and per (team on the close
-- date, month), each joined with the targets table itself (it has statistics).
rep_month AS (
    SELECT user_id, close_month, SUM(amount_cents) AS cents FROM {credits}
    WHERE counts AND close_date >= %(start)s AND close_date <= %(as_of)s
    GROUP BY user_id, close_month
),
team_month AS (
    SELECT team_id, close_month, SUM(amount_cents) AS cents FROM {credits}
    WHERE counts AND close_date >= %(start)s AND close_date <= %(as_of)s AND team_id IS NOT NULL
    GROUP BY team_id, close_month
),
target_month AS (
    SELECT t.id, m.close_month, m.cents
    FROM {targets} t JOIN rep_month m ON m.user_id = t.owner_user_id
    WHERE t.measure = %(revenue)s
      AND m.close_month BETWEEN t.period_start AND t.period_end
    UNION ALL
    SELECT t.id, m.close_month, m.cents
    FROM {targets} t
    JOIN {closure} tree ON tree.ancestor_id = t.owner_unit_id
    JOIN team_month m ON m.team_id = tree.descendant_id
    WHERE t.measure = %(revenue)s
      AND m.close_month BETWEEN t.period_start AND t.period_end
),
month_cents AS (
    SELECT id,
           SUM(cents) FILTER (WHERE extract(month FROM close_month)::int %% 3 = 1) AS m1,
           SUM(cents) FILTER (WHERE extract(month FROM close_month)::int %% 3 = 2) AS m2,
           SUM(cents) FILTER (WHERE extract(month FROM close_month)::int %% 3 = 0) AS m3
    FROM target_month GROUP BY id
),
-- Σ Base of child units' and member reps' targets of the same period and measure.
children AS (
    -- A rep's target sits under the team the rep was in on the period's last day.
    SELECT COALESCE(unit.parent_id, (
               SELECT m.team_id FROM {memberships} m
               WHERE m.user_id = t.owner_user_id
                 AND (m.valid_to IS NULL OR m.valid_to >= t.period_end)
               ORDER BY m.valid_from LIMIT 1
           )) AS parent_id, t.period, t.measure,
           SUM(t.base) AS allocated
    FROM {targets} t
    LEFT JOIN {units} unit ON unit.id = t.owner_unit_id
    GROUP BY 1, 2, 3
),
figure AS (
    SELECT target.*, children.allocated,
           COALESCE(m.m1, 0) AS m1_cents, COALESCE(m.m2, 0) AS m2_cents,
           COALESCE(m.m3, 0) AS m3_cents,
           COALESCE(m.m1, 0) + COALESCE(m.m2, 0) + COALESCE(m.m3, 0) AS actual_cents,
           %(as_of)s >= target.period_start AS started,
           %(as_of)s > target.period_end AS closed,
           %(as_of)s >= target.period_start + interval '1 month' AS m2_begun,
           %(as_of)s >= target.period_start + interval '2 months' AS m3_begun,
           -- share of the quarter expected by as_of, en / ed (SPEC §3 phasing)
           CASE WHEN %(as_of)s > target.period_end THEN 1
                ELSE (CASE phase.month WHEN 1 THEN 0 WHEN 2 THEN w1 ELSE w1 + w2 END)
                         * phase.days
                     + (CASE phase.month WHEN 1 THEN w1 WHEN 2 THEN w2 ELSE w3 END) * phase.day
           END AS en,
           CASE WHEN %(as_of)s > target.period_end THEN 1 ELSE wd * phase.days END AS ed
    FROM target
    LEFT JOIN month_cents m ON m.id = target.id
    LEFT JOIN children ON children.parent_id = target.owner_unit_id
                      AND children.period = target.period AND children.measure = target.measure
    CROSS JOIN (
        SELECT (extract(month FROM %(as_of)s::date)::int - 1) %% 3 + 1 AS month,
               extract(day FROM %(as_of)s::date)::int AS day,
               extract(day FROM date_trunc('month', %(as_of)s::date)
                                + interval '1 month - 1 day')::int AS days
    ) phase
),
rate AS (
    -- the rate the status reads: pace in an open period, completion in a closed one
    SELECT figure.*,
           CASE WHEN closed THEN actual_cents * 100 ELSE actual_cents * 100 * ed END AS rate_n,
           CASE WHEN closed THEN base_cents ELSE base_cents * en END AS rate_d,
           -- stretch progress = progress_n / span, clamped to [0, 1]
           CASE WHEN base_cents = stretch_cents THEN 1 ELSE stretch_cents - base_cents END
               AS span,
           CASE WHEN base_cents = stretch_cents OR actual_cents <= base_cents THEN 0
                WHEN actual_cents >= stretch_cents THEN stretch_cents - base_cents
                ELSE actual_cents - base_cents
           END AS progress_n
    FROM figure
)
SELECT id,
       actual_cents * 0.01, m1_cents * 0.01, m2_cents * 0.01, m3_cents * 0.01,
       CASE WHEN started THEN {month[0]} END,
       CASE WHEN m2_begun THEN {month[1]} END,
       CASE WHEN m3_begun THEN {month[2]} END,
       {_ratio("actual_cents * 100", "base_cents")},
       CASE WHEN started THEN {_ratio("actual_cents * 100 * ed", "base_cents * en")} END,
       CASE WHEN started THEN {_ratio("base_cents * en", "100 * ed")} END,
       CASE WHEN NOT started OR rate_d = 0 THEN NULL
            WHEN rate_n < red_below * rate_d THEN 'red'
            WHEN rate_n > green_above * rate_d THEN 'green'
            ELSE 'yellow'
       END,
       CASE WHEN base_cents <> stretch_cents THEN {_ratio("progress_n * 100", "span")} END,
       -- base bonus once Base is reached, plus the stretch bonus times stretch progress
       CASE WHEN base_bonus IS NOT NULL OR stretch_bonus IS NOT NULL THEN {
        _ratio(
            "CASE WHEN actual_cents >= base_cents THEN COALESCE(base_bonus, 0) ELSE 0 END * span"
            " + COALESCE(stretch_bonus, 0) * progress_n",
            "span",
        )
    } END,
       allocated,
       CASE WHEN allocated IS NOT NULL THEN {_ratio("allocated * 10000", "base_cents")} END
FROM rate
"""


STATEMENT = _statement()


def figures_by_sql(*, as_of: date) -> dict[int, Outputs]:
    """Every target's figures as of the end of `as_of`, from the one statement."""
    start = Target.objects.order_by("period_start").values_list("period_start", flat=True).first()
    if start is None:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(STATEMENT, {"as_of": as_of, "start": start, "revenue": Measure.REVENUE})
        rows = cursor.fetchall()
    return {
        row[0]: Outputs(row[1], (row[2], row[3], row[4]), (row[5], row[6], row[7]), *row[8:])
        for row in rows
    }


def _round(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(QUANTUM, rounding=ROUND_HALF_UP)


def outputs_of(figures) -> Outputs:
    """The same outputs from a `Figures`, ratios rounded as the statement rounds them."""
    monthly = figures.monthly
    return Outputs(
        figures.actual,
        tuple(m.actual for m in monthly),
        tuple(_round(m.completion) for m in monthly),
        _round(figures.completion),
        _round(figures.pace),
        _round(figures.expected_base),
        figures.status,
        _round(figures.stretch_progress),
        _round(figures.incentive),
        figures.allocated_base,
        _round(figures.allocation_coverage),
    )


def compare(figures: dict, by_sql: dict[int, Outputs]) -> list[tuple[int, str, object, object]]:
    """(target, output, figures_for's, the statement's) for every value that differs."""
    differences = []
    for pk in sorted(set(figures) | set(by_sql)):
        if pk not in figures or pk not in by_sql:
            differences.append((pk, "target", pk in figures, pk in by_sql))
            continue
        mine, theirs = outputs_of(figures[pk]), by_sql[pk]
        for name, a, b in zip(Outputs._fields, mine, theirs, strict=True):
            if a != b:
                differences.append((pk, name, a, b))
    return differences

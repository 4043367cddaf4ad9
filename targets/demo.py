"""The demo company (SPEC §11): the reference customer, built through the services.

80 people — admin, director, HRBP, finance, four regional managers and 72 reps in
4 regions × 3 teams — with targets for the current quarter and the two before it, and
deals generated so that the last closed quarter looks like the reference customer before
the pilot (SPEC §1, §5): reps average ~61 % completion and the regions' monthly completion
scatters with a volatility of ~23 points. The current quarter gets deals up to `today`
only, at varied pace, so dashboards show red, yellow and green reps.

Everything is drawn from generators seeded with fixed strings and placed relative to
`today`, so a run is reproducible; a second run finds units, users, targets and deals by
name / username / (source, external id) and skips them.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from targets import services
from targets.figures import figures_for, volatility
from targets.models import Deal, DealSource, OrgUnit, Role, Target, UnitKind, User
from targets.periods import Quarter
from targets.services import RoleGrant, Split

DEMO_PASSWORD = "targetpilot"
COMPANY_NAME = "云启软件"
SEED = "targetpilot-demo"

# What the last closed quarter is tuned to (SPEC §1 / §5, before the pilot); the quarter
# before it is a little worse, so the trend points the right way.
LAST_CLOSED_COMPLETION = 61.0
LAST_CLOSED_VOLATILITY = 23.4
OLDER_COMPLETION = 57.5
OLDER_VOLATILITY = 26.5

TEAMS_PER_REGION = 3
REPS_PER_TEAM = 6
TEAM_SHARES = (0.37, 0.33, 0.30)
TEAM_ORDINALS = ("一", "二", "三")
# Allocation coverage the UI can show: one team keeps 10 % of its Base unallocated, one
# hands out 4 % more than it has.
UNDER_ALLOCATED_TEAM = "西部三组"
OVER_ALLOCATED_TEAM = "华南二组"
TEAM_COVERAGE = {UNDER_ALLOCATED_TEAM: 0.90, OVER_ALLOCATED_TEAM: 1.04}

STRETCH_FACTOR = Decimal("1.5")
BASE_BONUS_RATE = Decimal("0.03")
STRETCH_BONUS_RATE = Decimal("0.05")
TEN_THOUSAND = 10_000


@dataclass(frozen=True)
class RegionSpec:
    name: str
    short: str
    manager: str
    manager_name: str
    base: int
    cities: tuple[str, ...]
    # Shape of the region's months in a closed quarter (scaled during calibration) and
    # how strong its reps are relative to the company.
    month_profile: tuple[float, float, float]
    strength: float


REGIONS = (
    RegionSpec(
        name="华东 East",
        short="华东",
        manager="mgr_east",
        manager_name="张伟",
        base=8_000_000,
        cities=("上海", "杭州", "南京", "苏州", "宁波", "合肥", "无锡"),
        month_profile=(-1.0, -0.1, 1.1),
        strength=1.08,
    ),
    RegionSpec(
        name="华北 North",
        short="华北",
        manager="mgr_north",
        manager_name="李强",
        base=6_000_000,
        cities=("北京", "天津", "石家庄", "济南", "青岛", "太原", "大连"),
        month_profile=(-0.7, 0.9, -0.2),
        strength=0.97,
    ),
    RegionSpec(
        name="华南 South",
        short="华南",
        manager="mgr_south",
        manager_name="黄丽",
        base=7_000_000,
        cities=("深圳", "广州", "厦门", "福州", "东莞", "佛山", "南宁"),
        month_profile=(0.6, -1.0, 0.4),
        strength=1.03,
    ),
    RegionSpec(
        name="西部 West",
        short="西部",
        manager="mgr_west",
        manager_name="杨磊",
        base=4_500_000,
        cities=("成都", "重庆", "西安", "昆明", "贵阳", "兰州", "乌鲁木齐"),
        month_profile=(-1.0, 0.2, 0.8),
        strength=0.90,
    ),
)

STAFF = (
    ("admin", "周建国", Role.ADMIN),
    ("director", "王志远", Role.SALES_DIRECTOR),
    ("hrbp", "陈静", Role.HRBP),
    ("finance", "刘芳", Role.FINANCE),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SURNAMES = _words(
    "王 李 张 刘 陈 杨 赵 黄 周 吴 徐 孙 胡 朱 高 林 何 郭 马 罗 梁 宋 郑 谢 韩 唐 冯 于 "
    "董 萧 程 曹 袁 邓 许 傅 沈 曾 彭 吕 苏 卢 蒋 蔡 贾 丁 魏 薛 叶 阎"
)
GIVEN_NAMES = _words(
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 "
    "超 霞 平 刚 鹏 丹 晨 斌 秀英 浩然 子涵 欣怡 宇轩 思远 雨桐 俊杰 "
    "晓峰 嘉怡 文博 婷婷 志强 建华 海燕 佳琪 振宇 梦瑶 国栋 晓丽 一鸣 若曦 博文 立新 "
    "雪梅 天宇 慧敏 家豪 春阳"
)

ACCOUNT_STEMS = _words(
    "华联 鹏程 恒信 远景 金桥 天成 瑞达 博源 新创 汇通 嘉禾 宏图 鼎盛 锦程 海纳 云图 "
    "启明 同创 长风 星河 思源 凯瑞 德丰 安泰 明远 万象 卓越 致远 信达 通达 华信 盛世 "
    "联创 朗润 泰和 永隆 新元 众诚 睿智 百川"
)
ACCOUNT_TRADES = _words(
    "商贸 科技 信息技术 网络科技 智能制造 医疗器械 物流 电子 新材料 软件 供应链管理 "
    "教育科技 生物医药 环保科技 建设工程 食品 汽车零部件 文化传媒"
)
ACCOUNT_SUFFIXES = ("有限公司", "有限公司", "有限公司", "股份有限公司", "集团有限公司")
ACCOUNTS_PER_REP = 7

STAGES = {
    (DealSource.SALESFORCE, True): "Closed Won",
    (DealSource.SALESFORCE, False): "Closed Lost",
    (DealSource.ERP, True): "已签约",
    (DealSource.ERP, False): "已输单",
}
ID_PREFIXES = {DealSource.SALESFORCE: "SF", DealSource.ERP: "ERP"}

REVISED_REP = "rep055"  # first rep of 西部一组
REVISION_REASON = (
    "受地方政策收紧影响，两家重点客户的年度采购预算冻结至下季度；"
    "经月度目标健康评审同意，本季度目标下调15%。"
)
MANUAL_DEALS = 6  # the first half get confirmed by the regional manager


@dataclass(frozen=True)
class DemoSummary:
    company: str
    people: int
    targets: int
    deals: int
    created_people: int
    created_targets: int
    created_deals: int
    last_closed_period: str
    average_rep_completion: Decimal | None
    regions_volatility: Decimal | None


# Plan: what the company looks like, computed without touching the database ------------


@dataclass
class _Rep:
    username: str
    display_name: str
    region: RegionSpec
    team: str
    accounts: list[str]


@dataclass(frozen=True)
class _PlannedTarget:
    period: str
    base: Decimal
    unit: str | None = None  # unit name (unique in the demo tree)
    rep: str | None = None  # username
    base_bonus: Decimal | None = None
    stretch_bonus: Decimal | None = None

    @property
    def stretch(self) -> Decimal:
        return self.base * STRETCH_FACTOR


@dataclass(frozen=True)
class _PlannedDeal:
    source: str
    external_id: str
    account: str
    owner: str
    amount: Decimal
    close_date: date
    won: bool
    shares: tuple[tuple[str, int], ...]  # (username, percent); one entry = sole owner

    @property
    def stage(self) -> str:
        return STAGES[(self.source, self.won)]


def _team_names(region: RegionSpec) -> list[str]:
    return [f"{region.short}{TEAM_ORDINALS[i]}组" for i in range(TEAMS_PER_REGION)]


def _plan_reps() -> list[_Rep]:
    rng = random.Random(f"{SEED}/people")
    taken = {name for _, name, _ in STAFF} | {r.manager_name for r in REGIONS}
    reps: list[_Rep] = []
    for region in REGIONS:
        books = _account_books(rng, region.cities, TEAMS_PER_REGION * REPS_PER_TEAM)
        for team in _team_names(region):
            for _ in range(REPS_PER_TEAM):
                while True:
                    name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
                    if name not in taken:
                        taken.add(name)
                        break
                reps.append(
                    _Rep(
                        f"rep{len(reps) + 1:03d}", name, region, team, books[len(reps) % len(books)]
                    )
                )
    return reps


def _account_books(rng: random.Random, cities: Sequence[str], books: int) -> list[list[str]]:
    """Disjoint customer books: each rep keeps coming back to the same accounts."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < books * ACCOUNTS_PER_REP:
        name = (
            rng.choice(cities)
            + rng.choice(ACCOUNT_STEMS)
            + rng.choice(ACCOUNT_TRADES)
            + rng.choice(ACCOUNT_SUFFIXES)
        )
        if name not in seen:
            seen.add(name)
            names.append(name)
    return [names[i * ACCOUNTS_PER_REP : (i + 1) * ACCOUNTS_PER_REP] for i in range(books)]


def _split_amount(total: int, weights: Sequence[float], step: int) -> list[int]:
    """Split `total` by weights into parts that add up exactly and are never negative.

    Cumulative sums are rounded to `step`, so every part but the last is a multiple of it.
    """
    whole, running, parts, previous = sum(weights), 0.0, [], 0
    for weight in weights[:-1]:
        running += weight
        boundary = min(round(total * running / whole / step) * step, total)
        parts.append(boundary - previous)
        previous = boundary
    return [*parts, total - previous]


def _plan_targets(quarter: Quarter, reps: list[_Rep]) -> list[_PlannedTarget]:
    rng = random.Random(f"{SEED}/targets/{quarter.label}")
    label = quarter.label
    planned = [_PlannedTarget(label, Decimal(sum(r.base for r in REGIONS)), unit=COMPANY_NAME)]
    for region in REGIONS:
        planned.append(_PlannedTarget(label, Decimal(region.base), unit=region.name))
        team_bases = _split_amount(region.base, TEAM_SHARES, TEN_THOUSAND)
        for team, team_base in zip(_team_names(region), team_bases, strict=True):
            planned.append(_PlannedTarget(label, Decimal(team_base), unit=team))
            members = [r for r in reps if r.team == team]
            allocated = round(team_base * TEAM_COVERAGE.get(team, 1.0) / TEN_THOUSAND)
            weights = [rng.uniform(0.8, 1.2) for _ in members]
            rep_bases = _split_amount(allocated * TEN_THOUSAND, weights, TEN_THOUSAND)
            for rep, base in zip(members, rep_bases, strict=True):
                planned.append(
                    _PlannedTarget(
                        label,
                        Decimal(base),
                        rep=rep.username,
                        base_bonus=base * BASE_BONUS_RATE,
                        stretch_bonus=base * STRETCH_BONUS_RATE,
                    )
                )
    return planned


def _closed_quarter_amounts(
    rng: random.Random,
    reps: list[_Rep],
    rep_base: dict[str, float],
    *,
    completion: float,
    spread: float,
) -> dict[str, list[float]]:
    """Each rep's won amount per month of a closed quarter, tuned to two figures.

    Rep completions are drawn around `completion` and scaled so that their mean is exact.
    Each region's months follow its profile, scaled by one factor k that is found by
    bisection so that the regions' volatility over the quarter (SPEC §5) is `spread`.
    """
    raw = {
        r.username: min(max(rng.gauss(completion, 24) * r.region.strength, 15), 135) for r in reps
    }
    scale = completion * len(reps) / sum(raw.values())
    actual = {r.username: raw[r.username] * scale / 100 * rep_base[r.username] for r in reps}
    noise = {r.username: [rng.uniform(-0.04, 0.04) for _ in range(3)] for r in reps}
    profiles = {}
    for region in REGIONS:
        mean = sum(region.month_profile) / 3
        centred = [p - mean for p in region.month_profile]
        peak = max(abs(p) for p in centred)
        profiles[region.name] = [p / peak for p in centred]

    def shares(rep: _Rep, k: float) -> list[float]:
        profile, own = profiles[rep.region.name], noise[rep.username]
        values = [max(1 / 3 + k * profile[m] + own[m], 0.02) for m in range(3)]
        return [v / sum(values) for v in values]

    def spread_for(k: float) -> float:
        values = []
        for region in REGIONS:
            month_base = region.base / 3
            members = [r for r in reps if r.region is region]
            for m in range(3):
                won = sum(actual[r.username] * shares(r, k)[m] for r in members)
                values.append(won / month_base * 100)
        return statistics.pstdev(values)

    low, high = 0.0, 0.3
    for _ in range(40):
        middle = (low + high) / 2
        if spread_for(middle) < spread:
            low = middle
        else:
            high = middle
    k = (low + high) / 2
    return {r.username: [actual[r.username] * s for s in shares(r, k)] for r in reps}


def _open_quarter_amounts(
    rng: random.Random, reps: list[_Rep], rep_base: dict[str, float]
) -> dict[str, list[float]]:
    """The whole current quarter at each rep's own pace: some behind, some on track, some ahead."""
    amounts = {}
    for rep in reps:
        draw = rng.random()
        if draw < 0.3:
            rate = rng.uniform(28, 52)
        elif draw < 0.65:
            rate = rng.uniform(66, 75)
        else:
            rate = rng.uniform(90, 135)
        months = [1 / 3 + rng.uniform(-0.03, 0.03) for _ in range(3)]
        amounts[rep.username] = [
            rate / 100 * rep_base[rep.username] * m / sum(months) for m in months
        ]
    return amounts


def _plan_deals(
    quarter: Quarter,
    reps: list[_Rep],
    targets: list[_PlannedTarget],
    *,
    tuning: tuple[float, float] | None,
) -> list[_PlannedDeal]:
    """Every deal of a quarter, won and lost.

    `tuning` is a closed quarter's (completion, volatility); None plans the open quarter —
    whole, so that ids and amounts do not depend on the day of the run.
    """
    rng = random.Random(f"{SEED}/deals/{quarter.label}")
    rep_base = {t.rep: float(t.base) for t in targets if t.rep}
    closed = tuning is not None
    if tuning is None:
        amounts = _open_quarter_amounts(rng, reps, rep_base)
    else:
        completion, spread = tuning
        amounts = _closed_quarter_amounts(rng, reps, rep_base, completion=completion, spread=spread)
    team_of = {r.username: [m.username for m in reps if m.team == r.team] for r in reps}
    counters = dict.fromkeys(ID_PREFIXES, 0)
    deals: list[_PlannedDeal] = []

    def add(rep: _Rep, amount: int, day: date, won: bool, shares: tuple) -> None:
        source = DealSource.SALESFORCE if rng.random() < 0.55 else DealSource.ERP
        counters[source] += 1
        deals.append(
            _PlannedDeal(
                source=source,
                external_id=f"{ID_PREFIXES[source]}-{quarter.label}-{counters[source]:06d}",
                account=rng.choice(rep.accounts),
                owner=rep.username,
                amount=Decimal(amount),
                close_date=day,
                won=won,
                shares=shares,
            )
        )

    for rep in reps:
        for month, planned in zip(quarter.months, amounts[rep.username], strict=True):
            total = round(planned / 100) * 100
            if total <= 0:
                continue
            pieces = max(1, round(total / rng.uniform(18_000, 45_000)))
            for amount in _split_amount(total, [rng.uniform(0.5, 1.5) for _ in range(pieces)], 100):
                if amount <= 0:
                    continue
                # Closed quarters show the usual month-end rush; the open one is spread
                # evenly so that its pace to date reflects each rep's planned rate.
                if closed:
                    day = round(rng.triangular(1, month.days, month.days * 0.8))
                else:
                    day = rng.randint(1, month.days)
                shares = ((rep.username, 100),)
                # A few deals are shared with a teammate: same team, same month, so the
                # regions' figures stay as tuned.
                if rng.random() < 0.05:
                    partner = rng.choice([u for u in team_of[rep.username] if u != rep.username])
                    first = rng.choice((50, 60, 70))
                    shares = ((rep.username, first), (partner, 100 - first))
                add(rep, amount, month.start.replace(day=day), True, shares)
        for _ in range(rng.randint(1, 3)):
            amount = rng.randrange(20_000, 200_000, 1_000)
            day = quarter.start + timedelta(
                days=rng.randrange((quarter.end - quarter.start).days + 1)
            )
            add(rep, amount, day, False, ((rep.username, 100),))
    return deals


# Persist: create what is missing, through the services ---------------------------------


def _ensure_unit(name: str, kind: str, parent: OrgUnit | None) -> tuple[OrgUnit, bool]:
    unit = OrgUnit.objects.filter(name=name, parent=parent).first()
    if unit is not None:
        return unit, False
    return services.org_unit_save(name=name, kind=kind, parent=parent), True


def _ensure_org() -> dict[str, OrgUnit]:
    company, _ = _ensure_unit(COMPANY_NAME, UnitKind.COMPANY, None)
    units = {COMPANY_NAME: company}
    for region in REGIONS:
        units[region.name], _ = _ensure_unit(region.name, UnitKind.REGION, company)
        for team in _team_names(region):
            units[team], _ = _ensure_unit(team, UnitKind.TEAM, units[region.name])
    return units


def _ensure_people(units: dict[str, OrgUnit], reps: list[_Rep]) -> tuple[dict[str, User], int]:
    company = units[COMPANY_NAME]
    wanted: list[tuple[str, str, OrgUnit | None, list[RoleGrant]]] = [
        (username, name, None, [RoleGrant(role, None if role == Role.ADMIN else company)])
        for username, name, role in STAFF
    ]
    wanted += [
        (r.manager, r.manager_name, None, [RoleGrant(Role.SALES_MANAGER, units[r.name])])
        for r in REGIONS
    ]
    wanted += [
        (r.username, r.display_name, units[r.team], [RoleGrant(Role.REP, units[r.team])])
        for r in reps
    ]
    users = {u.username: u for u in User.objects.filter(username__in=[w[0] for w in wanted])}
    created = []
    for username, name, team, roles in wanted:
        if username in users:
            continue
        users[username] = services.user_save(
            username=username,
            display_name=name,
            email=f"{username}@yunqi.example.com",
            team=team,
            roles=roles,
        )
        created.append(users[username].pk)
    if created:
        # One hash for everyone: hashing 80 passwords one by one costs tens of seconds.
        User.objects.filter(pk__in=created).update(password=make_password(DEMO_PASSWORD))
    return users, len(created)


def _ensure_targets(
    planned: list[_PlannedTarget], units: dict[str, OrgUnit], users: dict[str, User]
) -> tuple[dict[tuple[str, str], Target], int]:
    """Targets keyed by (owner name, period); existing ones are kept as they are."""
    periods = {t.period for t in planned}
    existing = Target.objects.filter(period__in=periods, company=units[COMPANY_NAME])
    by_key = {}
    for target in existing.select_related("owner_unit", "owner_user"):
        owner = target.owner_unit.name if target.owner_unit else target.owner_user.username
        by_key[(owner, target.period)] = target
    created = 0
    for plan in planned:
        key = (plan.unit or plan.rep, plan.period)
        if key in by_key:
            continue
        unit = units[plan.unit] if plan.unit else None
        by_key[key] = services.target_create(
            period=plan.period,
            base=plan.base,
            stretch=plan.stretch,
            owner_unit=unit,
            owner_user=users[plan.rep] if plan.rep else None,
            base_bonus=plan.base_bonus,
            stretch_bonus=plan.stretch_bonus,
            created_by=users["director"],
        )
        created += 1
    return by_key, created


def _aware(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _ensure_deals(planned: list[_PlannedDeal], users: dict[str, User]) -> int:
    wanted = Q()
    for prefix in {d.external_id.rsplit("-", 1)[0] for d in planned}:
        wanted |= Q(external_id__startswith=f"{prefix}-")
    existing = set(
        Deal.objects.filter(wanted, source__in=ID_PREFIXES).values_list("source", "external_id")
    )
    created = 0
    for deal in planned:
        if (deal.source, deal.external_id) in existing:
            continue
        services.deal_upsert(
            source=deal.source,
            external_id=deal.external_id,
            account=deal.account,
            owner=users[deal.owner],
            amount=deal.amount,
            close_date=deal.close_date,
            won=deal.won,
            stage=deal.stage,
            source_modified_at=_aware(deal.close_date, 18),
            splits=[Split(users[u], Decimal(p)) for u, p in deal.shares],
        )
        created += 1
    return created


def _ensure_manual_deals(
    quarter: Quarter, today: date, reps: list[_Rep], users: dict[str, User]
) -> int:
    """Hand-entered deals of the current quarter; only the first half are confirmed yet."""
    rng = random.Random(f"{SEED}/manual/{quarter.label}")
    authors = rng.sample(reps, MANUAL_DEALS)
    managers = {r.name: r.manager for r in REGIONS}
    created = 0
    for number, rep in enumerate(authors, start=1):
        external_id = f"M-{quarter.label}-{number:03d}"
        amount = Decimal(rng.randrange(30_000, 150_000, 1_000))
        day = quarter.start + timedelta(days=rng.randrange((today - quarter.start).days + 1))
        account = rng.choice(rep.accounts)
        deal = Deal.objects.filter(source=DealSource.MANUAL, external_id=external_id).first()
        if deal is None:
            deal = services.deal_create_manual(
                author=users[rep.username],
                account=account,
                owner=users[rep.username],
                amount=amount,
                close_date=day,
                stage="已签约",
                external_id=external_id,
            )
            created += 1
        if number <= MANUAL_DEALS // 2 and deal.confirmed_by_id is None:
            services.deal_confirm(deal=deal, confirmed_by=users[managers[rep.region.name]])
    return created


def _ensure_revision(target: Target, users: dict[str, User], today: date) -> None:
    """One current-quarter target adjusted mid-quarter: "original vs adjusted" has an example."""
    if target.revisions.exists():
        return
    ratio = Decimal("0.85")
    base = (target.base * ratio / TEN_THOUSAND).quantize(Decimal(1)) * TEN_THOUSAND
    decided_on = min(today, target.period_start + timedelta(days=20))
    services.target_revise(
        target=target,
        base=base,
        stretch=base * STRETCH_FACTOR,
        reason=REVISION_REASON,
        decided_by=users["director"],
        decided_at=_aware(decided_on, 16, 30),
    )


@transaction.atomic
def demo_company_seed(*, today: date) -> DemoSummary:
    """Build (or complete) the demo company; the current quarter is the one holding `today`."""
    current = Quarter.of(today)
    last_closed = current.previous()
    older = last_closed.previous()
    reps = _plan_reps()
    units = _ensure_org()
    users, created_people = _ensure_people(units, reps)

    created_targets = created_deals = 0
    targets_by_owner: dict[tuple[str, str], Target] = {}
    tunings = {
        older: (OLDER_COMPLETION, OLDER_VOLATILITY),
        last_closed: (LAST_CLOSED_COMPLETION, LAST_CLOSED_VOLATILITY),
        current: None,
    }
    for quarter, tuning in tunings.items():
        planned_targets = _plan_targets(quarter, reps)
        targets, created = _ensure_targets(planned_targets, units, users)
        targets_by_owner.update(targets)
        created_targets += created
        planned_deals = _plan_deals(quarter, reps, planned_targets, tuning=tuning)
        # Of the open quarter, only what has closed by today exists yet.
        created_deals += _ensure_deals([d for d in planned_deals if d.close_date <= today], users)

    created_deals += _ensure_manual_deals(current, today, reps, users)
    _ensure_revision(targets_by_owner[(REVISED_REP, current.label)], users, today)

    company = units[COMPANY_NAME]
    completion, spread = demo_company_figures(company=company, period=last_closed, as_of=today)
    demo_users = User.objects.filter(username__in=list(users))
    return DemoSummary(
        company=company.name,
        people=demo_users.count(),
        targets=Target.objects.filter(company=company).count(),
        deals=Deal.objects.filter(owner__in=demo_users).count(),
        created_people=created_people,
        created_targets=created_targets,
        created_deals=created_deals,
        last_closed_period=last_closed.label,
        average_rep_completion=completion,
        regions_volatility=spread,
    )


def demo_company_figures(
    *, company: OrgUnit, period: Quarter, as_of: date
) -> tuple[Decimal | None, Decimal | None]:
    """Mean rep completion and the regions' volatility over the quarter (SPEC §1 / §5)."""
    targets = Target.objects.filter(company=company, period=period.label)
    rep_targets = targets.filter(owner_user__isnull=False)
    completions = [
        f.completion
        for f in figures_for(rep_targets, as_of=as_of).values()
        if f.completion is not None
    ]
    average = sum(completions) / len(completions) if completions else None
    regions = figures_for(targets.filter(owner_unit__parent=company), as_of=as_of)
    return average, volatility(regions.values(), period.months)

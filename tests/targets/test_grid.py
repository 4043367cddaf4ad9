"""The quarter target grid: who sets what, the tools, all-or-nothing saving, XLSX both ways."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from targets import grid_xlsx, services
from targets.models import Role, Target
from targets.selectors.grid import split_amount
from tests.factories import DealFactory, make_rep, make_unit, make_user

pytestmark = pytest.mark.django_db

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2025, 5, 15)


@pytest.fixture(autouse=True)
def _mid_quarter():
    # 2025-05-15: Q2 is under way (its targets are locked), Q3 is the quarter being set.
    with time_machine.travel(datetime(2025, 5, 15, 12, tzinfo=SHANGHAI), tick=False):
        yield


def target(period, *, base, stretch, **owner) -> Target:
    return services.target_create(period=period, base=D(base), stretch=D(stretch), **owner)


def url(unit, period="2025Q3", name="target-grid") -> str:
    return f"{reverse(name)}?unit={unit.pk}&period={period}"


def key(owner) -> str:
    return f"unit-{owner.pk}" if hasattr(owner, "kind") else f"user-{owner.pk}"


def row(owner, base="", stretch="", *, version="", w=("", "", ""), bonus=("", "")) -> dict:
    k = key(owner)
    return {
        f"{k}-base": base,
        f"{k}-stretch": stretch,
        f"{k}-w1": w[0],
        f"{k}-w2": w[1],
        f"{k}-w3": w[2],
        f"{k}-base_bonus": bonus[0],
        f"{k}-stretch_bonus": bonus[1],
        f"{k}-version": str(version),
    }


def html_of(response) -> str:
    return response.content.decode()


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self.in_grid = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("data-testid") == "grid-form":
            self.in_grid = True
        elif tag == "form":
            self.in_grid = False
        if self.in_grid and tag == "input" and attrs.get("name"):
            self.data[attrs["name"]] = attrs.get("value") or ""


def grid_inputs(html: str) -> dict[str, str]:
    """What the grid form would post, as a browser reads it from the page."""
    parser = _Inputs()
    parser.feed(html)
    return parser.data


@pytest.fixture
def q2(org):
    """Last quarter (under way, locked): East 500万/700万 split over its teams and reps."""
    return {
        "east": target("2025Q2", owner_unit=org.east, base="5000000", stretch="7000000"),
        "east1": target("2025Q2", owner_unit=org.east1, base="3000000", stretch="4000000"),
        "east2": target("2025Q2", owner_unit=org.east2, base="2000000", stretch="3000000"),
        "alice": target("2025Q2", owner_user=org.alice, base="1500000", stretch="2000000"),
        "bob": target("2025Q2", owner_user=org.bob, base="1500000", stretch="2000000"),
        "carol": target("2025Q2", owner_user=org.carol, base="2000000", stretch="3000000"),
    }


# Reading -------------------------------------------------------------------------------


def test_the_grid_lists_every_unit_and_rep_below_in_tree_order(client, org):
    client.force_login(org.director)
    response = client.get(url(org.east))
    assert response.status_code == 200
    html = html_of(response)
    keys = [key(o) for o in (org.east, org.east1, org.alice, org.bob, org.east2, org.carol)]
    positions = [html.index(f'data-key="{k}"') for k in keys]
    assert positions == sorted(positions)
    assert f'data-key="{key(org.north)}"' not in html
    assert "设定目标" in html  # the title, in Chinese by default
    assert "基础目标" in html and "冲刺目标" in html


def test_the_grid_renders_in_english_too(client, org):
    org.director.language = "en"
    org.director.save()
    client.force_login(org.director)
    client.cookies["django_language"] = "en"
    html = html_of(client.get(url(org.east)))
    assert "Set targets" in html and "Children vs parent" in html
    assert "Fill from 2025Q2" in html


def test_the_header_and_the_dashboard_link_to_the_grid_for_who_sets_targets(client, org):
    client.force_login(org.director)
    html = html_of(client.get(f"{reverse('home')}?unit={org.east.pk}&period=2025Q3"))
    assert reverse("target-grid") in html
    assert 'data-testid="set-targets"' in html
    client.force_login(org.hrbp)
    html = html_of(client.get(f"{reverse('home')}?unit={org.east.pk}&period=2025Q3"))
    assert reverse("target-grid") not in html


def test_who_does_not_set_targets_is_refused_and_unseen_units_are_not_found(client, org):
    for user in (org.hrbp, org.finance, org.alice):
        client.force_login(user)
        assert client.get(url(org.east)).status_code == 403, user
    other = make_unit("Other Co", "company")
    client.force_login(org.director)
    assert client.get(url(other)).status_code == 404
    assert client.get(f"{reverse('target-grid')}?unit=²").status_code == 404
    assert (
        client.get(f"{reverse('target-grid')}?unit={org.east.pk}&period=2025Q9").status_code == 400
    )


def test_the_grid_accepts_only_get_and_post(client, org):
    client.force_login(org.director)
    assert client.put(url(org.east)).status_code == 405
    assert client.post(url(org.east, name="target-grid-export")).status_code == 405
    assert client.get(url(org.east, name="target-grid-import")).status_code == 405


def test_admin_sees_the_grid_read_only_and_cannot_save(client, org):
    client.force_login(org.admin)
    html = html_of(client.get(url(org.east)))
    assert 'data-testid="grid-read-only"' in html
    assert 'name="unit-' not in html
    response = client.post(url(org.east), row(org.east, "100", "100"))
    assert response.status_code == 403
    assert not Target.objects.exists()


def test_the_page_costs_the_same_queries_for_one_team_or_three(
    client, org, django_assert_max_num_queries
):
    region = make_unit("West", "region", org.company)
    director = make_user("west_director", roles=[(Role.SALES_DIRECTOR, region)])
    team = make_unit("West-1", "team", region)
    for i in range(3):
        make_rep(f"w1rep{i}", team)
        target("2025Q3", owner_user=make_rep(f"w1tgt{i}", team), base="100", stretch="100")
    client.force_login(director)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one_team:
        assert client.get(url(region)).status_code == 200
    for t in (2, 3):
        extra = make_unit(f"West-{t}", "team", region)
        for i in range(3):
            make_rep(f"w{t}rep{i}", extra)
            target("2025Q3", owner_user=make_rep(f"w{t}tgt{i}", extra), base="1", stretch="1")
    with django_assert_max_num_queries(len(one_team.captured_queries)):
        assert client.get(url(region)).status_code == 200


# Saving --------------------------------------------------------------------------------


def test_a_director_saves_a_fresh_quarter_for_a_region_with_reps(client, org):
    client.force_login(org.director)
    data = {
        **row(org.east, "5,000,000", "7,000,000", w=("0.3", "0.3", "0.4")),
        **row(org.east1, "300万", "400万"),
        **row(org.alice, "1500000", "2000000", bonus=("20000", "30,000")),
        **row(org.bob, "150万", "200万"),
        **row(org.east2, "200万", "300万"),
        **row(org.carol, "", ""),  # no target for carol
        "action": "save",
    }
    response = client.post(url(org.east), data)
    assert response.status_code == 302, html_of(response)
    east = Target.objects.get(owner_unit=org.east, period="2025Q3")
    assert (east.base, east.stretch) == (D("5000000"), D("7000000"))
    assert east.phasing == [D("0.3"), D("0.3"), D("0.4")]
    assert east.created_by == org.director
    alice = Target.objects.get(owner_user=org.alice, period="2025Q3")
    assert (alice.base_bonus, alice.stretch_bonus) == (D("20000"), D("30000"))
    assert not Target.objects.filter(owner_user=org.carol).exists()
    html = html_of(client.get(url(org.east)))
    assert "目标已保存" in html
    # East: Σ children 300万 + 200万 = its Base; East-1: alice + bob = its Base.
    assert html.count("recon-matches") == 2
    # East-2 has 200万 and carol nothing: under by 200万.
    assert "低于 200万" in html


def test_a_grid_of_more_than_a_thousand_fields_saves(client, org):
    big = make_unit("Big", "team", org.north)
    reps = [make_rep(f"big{i:03d}", big) for i in range(130)]
    client.force_login(org.director)
    data = {}
    for rep in reps:
        data.update(row(rep, "1000", "2000"))
    assert len(data) > 1000
    assert client.post(url(big), data).status_code == 302
    assert Target.objects.filter(owner_user__team=big).count() == 130


def test_a_manager_sets_targets_only_strictly_below_the_own_unit(client, org):
    client.force_login(org.mgr_east)
    html = html_of(client.get(url(org.east)))
    assert f'name="{key(org.east)}-base"' not in html  # the own unit: read-only
    assert f'name="{key(org.east1)}-base"' in html
    assert f'name="{key(org.alice)}-base"' in html
    assert client.get(url(org.north)).status_code == 403
    assert client.get(url(org.company)).status_code == 403
    # Posting the parent row anyway is refused as a whole.
    response = client.post(
        url(org.east), {**row(org.east, "100", "100"), **row(org.east1, "50", "50")}
    )
    assert response.status_code == 403
    assert not Target.objects.exists()


def test_the_service_refuses_a_row_the_user_may_not_set(org):
    rows = [
        services.GridRow(
            key=key(org.east),
            owner_unit=org.east,
            owner_user=None,
            target=None,
            version=None,
            base=D(1),
            stretch=D(1),
        )
    ]
    with pytest.raises(PermissionDenied):
        services.target_grid_save(user=org.mgr_east, period="2025Q3", rows=rows, today=TODAY)
    assert not Target.objects.exists()


def test_a_bad_row_saves_nothing_and_says_why_on_that_row(client, org):
    client.force_login(org.director)
    data = {
        **row(org.east1, "300万", "400万"),
        **row(org.alice, "200万", "100万"),  # Stretch below Base
        **row(org.bob, "100", "100", w=("0.5", "0.5", "0.5")),
    }
    response = client.post(url(org.east), data)
    assert response.status_code == 200
    html = html_of(response)
    assert "未保存任何内容" in html
    assert "冲刺目标不能低于基础目标。" in html
    assert "三个权重之和必须为 1。" in html
    alice_row = html[html.index(f'data-key="{key(org.alice)}"') :]
    alice_row = alice_row[: alice_row.index("</tr>")]
    assert "冲刺目标不能低于基础目标。" in alice_row
    assert not Target.objects.exists()


def test_a_stale_row_is_a_conflict_on_that_row_and_nothing_is_saved(client, org):
    alice = target("2025Q3", owner_user=org.alice, base="1000000", stretch="1000000")
    shown_version = alice.version
    services.target_update(target=alice, base=D("1200000"), stretch=D("1500000"))  # someone else
    client.force_login(org.mgr_east)
    data = {
        **row(org.alice, "110万", "150万", version=shown_version),
        **row(org.bob, "100万", "100万"),
    }
    response = client.post(url(org.east1), data)
    html = html_of(response)
    assert "此目标已被他人修改" in html
    alice_row = html[html.index(f'data-key="{key(org.alice)}"') :]
    assert "此目标已被他人修改" in alice_row[: alice_row.index("</tr>")]
    alice.refresh_from_db()
    assert alice.base == D("1200000")
    assert not Target.objects.filter(owner_user=org.bob).exists()


def test_an_untouched_row_does_not_conflict_or_change_its_version(client, org):
    alice = target("2025Q3", owner_user=org.alice, base="1000000", stretch="1000000")
    client.force_login(org.mgr_east)
    data = {
        **row(org.alice, "1,000,000", "1,000,000", version=alice.version),
        **row(org.bob, "100万", "100万"),
    }
    assert client.post(url(org.east1), data).status_code == 302
    alice.refresh_from_db()
    assert alice.version == 1


def test_locked_targets_are_shown_why_and_not_changed(client, org, q2):
    client.force_login(org.director)
    html = html_of(client.get(url(org.east, "2025Q2")))
    assert 'data-testid="started-note"' in html
    assert 'data-testid="locked"' in html
    assert f'name="{key(org.alice)}-base"' not in html
    # Dave (another region) has no Q2 target yet: it may still be created.
    html = html_of(client.get(url(org.company, "2025Q2")))
    assert f'name="{key(org.dave)}-base"' in html
    # A locked row posted anyway is refused on that row; nothing is written.
    data = {**row(org.alice, "1", "1", version=q2["alice"].version), **row(org.dave, "5", "5")}
    response = client.post(url(org.company, "2025Q2"), data)
    assert "金额只能通过已批准的调整来修改" in html_of(response)
    assert Target.objects.get(pk=q2["alice"].pk).base == D("1500000")
    assert not Target.objects.filter(owner_user=org.dave).exists()


# Tools ---------------------------------------------------------------------------------


def test_fill_from_last_quarters_targets_plus_a_percentage(client, org, q2):
    client.force_login(org.director)
    response = client.post(url(org.east), {"action": "fill-targets", "percent": "10"})
    html = html_of(response)
    assert f'name="{key(org.east)}-base" value="5,500,000"' in html
    assert f'name="{key(org.east)}-stretch" value="7,700,000"' in html
    assert f'name="{key(org.alice)}-base" value="1,650,000"' in html
    assert "已从 2025Q2" in html
    assert not Target.objects.filter(period="2025Q3").exists()  # a tool saves nothing


def test_fill_minus_a_percentage_from_last_quarters_actuals(client, org, q2):
    DealFactory(owner=org.alice, amount=D("1000000"), close_date=date(2025, 4, 10))
    client.force_login(org.mgr_east)
    response = client.post(
        url(org.east1), {"action": "fill-actuals", "percent": "-5", **row(org.bob, "", "")}
    )
    html = html_of(response)
    # 100万 actual − 5 % = 95万; Stretch keeps last quarter's 4:3 ratio.
    assert f'name="{key(org.alice)}-base" value="950,000"' in html
    assert f'name="{key(org.alice)}-stretch" value="1,266,666.67"' in html
    assert f'name="{key(org.bob)}-base" value="0"' in html


def test_the_tools_reply_with_the_grid_alone_to_htmx(client, org, q2):
    client.force_login(org.director)
    response = client.post(
        url(org.east), {"action": "fill-targets", "percent": "0"}, HTTP_HX_REQUEST="true"
    )
    html = html_of(response)
    assert html.lstrip().startswith('<div id="grid">')
    assert "<html" not in html


def test_split_a_parent_evenly_among_its_children(client, org):
    client.force_login(org.director)
    data = {**row(org.east, "1,000,000", "1,500,000"), "split": key(org.east), "split_mode": "even"}
    html = html_of(client.post(url(org.east), data))
    assert f'name="{key(org.east1)}-base" value="500,000"' in html
    assert f'name="{key(org.east2)}-stretch" value="750,000"' in html
    assert "recon-matches" in html


def test_split_a_parent_by_weights_typed_as_the_childrens_base(client, org):
    client.force_login(org.mgr_east)
    data = {
        **row(org.east1, "1,000,000", "1,000,000"),
        **row(org.alice, "3", "3"),
        **row(org.bob, "1", "1"),
        "split": key(org.east1),
        "split_mode": "current",
    }
    html = html_of(client.post(url(org.east1), data))
    assert f'name="{key(org.alice)}-base" value="750,000"' in html
    assert f'name="{key(org.bob)}-base" value="250,000"' in html


def test_split_a_parent_by_last_quarters_actuals(client, org, q2):
    DealFactory(owner=org.alice, amount=D("300000"), close_date=date(2025, 4, 10))
    DealFactory(owner=org.bob, amount=D("100000"), close_date=date(2025, 4, 11))
    client.force_login(org.mgr_east)
    data = {
        **row(org.east1, "200万", "300万"),
        "split": key(org.east1),
        "split_mode": "actuals",
    }
    html = html_of(client.post(url(org.east1), data))
    assert f'name="{key(org.alice)}-base" value="1,500,000"' in html
    assert f'name="{key(org.bob)}-stretch" value="750,000"' in html


def test_a_split_leaves_children_it_may_not_change_and_divides_the_rest(client, org, q2):
    # Q2 has started: East-1 and East-2 are locked (300万 + 200万); dave's North is not East's.
    east3 = make_unit("East-3", "team", org.east)
    client.force_login(org.director)
    data = {**row(east3, "", ""), "split": key(org.east), "split_mode": "even"}
    html = html_of(client.post(url(org.east, "2025Q2"), data))
    # East's 500万 is already held by its locked teams: nothing is left for East-3.
    assert f'name="{key(east3)}-base" value="0"' in html


def test_a_split_keeps_locked_children_and_sums_to_the_cent():
    assert split_amount(D("1000000"), [D(1)] * 3) == [
        D("333333.34"),
        D("333333.33"),
        D("333333.33"),
    ]
    assert sum(split_amount(D("0.05"), [D(1), D(2)])) == D("0.05")


def test_roll_children_up_into_the_parent(client, org):
    client.force_login(org.director)
    data = {
        **row(org.east1, "300万", "400万"),
        **row(org.east2, "200万", "250万"),
        "rollup": key(org.east),
    }
    html = html_of(client.post(url(org.east), data))
    assert f'name="{key(org.east)}-base" value="5,000,000"' in html
    assert f'name="{key(org.east)}-stretch" value="6,500,000"' in html


def test_the_reconciliation_follows_what_is_typed(client, org):
    client.force_login(org.director)
    data = {
        **row(org.east, "600万", "700万"),
        **row(org.east1, "300万", "400万"),
        **row(org.east2, "400万", "400万"),
        "action": "recalc",
    }
    html = html_of(client.post(url(org.east), data, HTTP_HX_REQUEST="true"))
    assert f'id="recon-{key(org.east)}" hx-swap-oob="true"' in html
    assert "高于 100万" in html


# XLSX ----------------------------------------------------------------------------------


def upload(content: bytes, name="grid.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=grid_xlsx.XLSX_TYPE)


def test_export_then_import_round_trips_and_saves(client, org):
    target("2025Q3", owner_user=org.alice, base="1500000", stretch="2000000")
    client.force_login(org.director)
    response = client.get(url(org.east, name="target-grid-export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.active
    assert sheet.title == "2025Q3"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("编号", "名称")
    assert [r[0] for r in rows[1:]] == [
        key(o) for o in (org.east, org.east1, org.alice, org.bob, org.east2, org.carol)
    ]
    # Fill in Excel: East-1 in 万 as text, bob as a number; alice unchanged.
    for cells in sheet.iter_rows(min_row=2):
        if cells[0].value == key(org.east1):
            cells[4].value, cells[5].value = "300万", "400万"
        if cells[0].value == key(org.bob):
            cells[4].value, cells[5].value = 1500000, 2000000.5
            cells[6].value, cells[7].value, cells[8].value = 0.2, 0.3, 0.5
    out = io.BytesIO()
    book.save(out)
    response = client.post(
        url(org.east, name="target-grid-import"), {"file": upload(out.getvalue())}
    )
    html = html_of(response)
    assert 'data-testid="import-preview"' in html
    assert f'name="{key(org.east1)}-base" value="3,000,000"' in html
    assert not Target.objects.filter(owner_unit=org.east1).exists()  # a preview saves nothing
    # The preview's grid is the form that saves.
    response = client.post(url(org.east), {**grid_inputs(html), "action": "save"})
    assert response.status_code == 302
    east1 = Target.objects.get(owner_unit=org.east1, period="2025Q3")
    assert (east1.base, east1.stretch) == (D("3000000"), D("4000000"))
    bob = Target.objects.get(owner_user=org.bob, period="2025Q3")
    assert (bob.base, bob.stretch) == (D("1500000"), D("2000000.50"))
    assert bob.phasing == [D("0.2"), D("0.3"), D("0.5")]
    assert Target.objects.get(owner_user=org.alice).version == 1  # unchanged, not rewritten
    assert not Target.objects.filter(owner_unit=org.east).exists()


def test_import_with_bad_rows_lists_each_rows_error_and_writes_nothing(client, org):
    book = Workbook()
    sheet = book.active
    sheet.title = "2025Q3"
    sheet.append(["Key", "Name", "Base", "Stretch"])
    sheet.append([key(org.east1), "East-1", "300万", "200万"])  # Stretch below Base
    sheet.append([key(org.alice), "Alice", 100, 200])
    sheet.append([key(org.bob), "Bob", 100, 300])
    out = io.BytesIO()
    book.save(out)
    client.force_login(org.director)
    response = client.post(
        url(org.east, name="target-grid-import"), {"file": upload(out.getvalue())}
    )
    html = html_of(response)
    assert "第 2 行" in html and "冲刺目标不能低于基础目标。" in html
    assert not Target.objects.exists()


def test_an_unreadable_file_or_row_refuses_the_whole_import(client, org):
    client.force_login(org.director)
    response = client.post(url(org.east, name="target-grid-import"), {"file": upload(b"not xlsx")})
    assert response.status_code == 400
    assert "不是 XLSX 文件" in html_of(response)
    book = Workbook()
    sheet = book.active
    sheet.append(["Key", "Base", "Stretch"])
    sheet.append([key(org.alice), "三百", 5])
    sheet.append([key(org.north), 1, 1])
    sheet.append(["user-", 1, 1])
    out = io.BytesIO()
    book.save(out)
    response = client.post(
        url(org.east, name="target-grid-import"), {"file": upload(out.getvalue())}
    )
    html = html_of(response)
    assert response.status_code == 400
    assert "第 2 行" in html and "第 3 行" in html and "第 4 行" in html
    assert f'name="{key(org.alice)}-base" value=""' in html  # the grid is left as it was
    assert not Target.objects.exists()


def test_a_file_of_another_quarter_is_refused(client, org):
    client.force_login(org.director)
    exported = client.get(url(org.east, "2025Q4", name="target-grid-export")).content
    response = client.post(url(org.east, name="target-grid-import"), {"file": upload(exported)})
    assert response.status_code == 400
    assert "该文件是 2025Q4 的目标，而表格显示的是 2025Q3。" in html_of(response)


def test_reading_a_sheet_tolerates_wan_and_plain_numbers():
    book = Workbook()
    sheet = book.active
    sheet.title = "2025Q3"
    sheet.append(["编号", "Base", "冲刺目标", "Month 1 weight", "Month 2 weight", "Month 3 weight"])
    sheet.append(["unit-1", "1,500万", 20000000, "30%", 0.3, "0.4"])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    parsed = grid_xlsx.read_grid(out)
    assert parsed.errors == []
    assert parsed.period == "2025Q3"
    values = parsed.rows[0].values
    assert values["base"] == D("15000000") and values["stretch"] == D("20000000")
    assert (values["w1"], values["w2"], values["w3"]) == (D("0.3"), D("0.3"), D("0.4"))

"""Targets from the quarter grid's XLSX or a CSV of its columns (issue 7 §4, SPEC §3, §10)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from targets.grid_xlsx import SheetRow, grid_workbook
from targets.models import Target
from targets.services import target_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_may_2025")]
URL = "/api/v1/imports/"
CSV_HEADER = "Key,Name,Base,Stretch,Month 1 weight,Month 2 weight,Month 3 weight\n"


def row(key, base, stretch, weights=None, version=None) -> SheetRow:
    return SheetRow(key, key, "", "", base, stretch, weights, None, None, version)


def xlsx(rows, period="2025Q3") -> SimpleUploadedFile:
    return SimpleUploadedFile("targets.xlsx", grid_workbook(period=period, rows=rows))


def upload(client, file, **options):
    return client.post(URL, {"file": file, "kind": "targets", **options}, format="multipart")


def test_an_administrator_imports_the_grid_xlsx_at_onboarding(api, org):
    file = xlsx(
        [
            row(f"unit-{org.company.pk}", Decimal("9000000"), Decimal("12000000")),
            row(f"unit-{org.east.pk}", Decimal("5000000"), Decimal("7000000")),
            row(
                f"user-{org.alice.pk}", Decimal("800000"), Decimal("1000000"), ("0.2", "0.3", "0.5")
            ),
        ]
    )
    response = upload(api(org.admin), file)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["rows"], body["created"], body["updated"], body["failed"]) == (3, 3, 0, 0)
    alice = Target.objects.get(owner_user=org.alice, period="2025Q3")
    assert (alice.base, alice.stretch) == (Decimal("800000.00"), Decimal("1000000.00"))
    assert tuple(alice.phasing) == (Decimal("0.2"), Decimal("0.3"), Decimal("0.5"))


def test_re_importing_the_same_file_changes_nothing(api, org):
    rows = [row(f"unit-{org.east.pk}", Decimal("5000000"), Decimal("7000000"))]
    client = api(org.admin)
    upload(client, xlsx(rows))
    body = upload(client, xlsx(rows)).json()
    assert (body["created"], body["updated"], body["failed"]) == (0, 0, 0)
    assert Target.objects.count() == 1


def test_a_csv_of_the_grid_columns_needs_the_quarter_and_takes_gbk(api, org):
    text = CSV_HEADER + f'user-{org.bob.pk},鲍勃,300万,"4,000,000",30%,30%,40%\n'
    file = SimpleUploadedFile("t.csv", text.encode("gbk"))
    response = upload(api(org.admin), file)
    assert response.status_code == 400
    assert "period" in response.json()
    file.seek(0)
    response = upload(api(org.admin), file, period="2025Q3")
    assert response.status_code == 201, response.json()
    target = Target.objects.get(owner_user=org.bob)
    assert (target.base, target.stretch) == (Decimal("3000000.00"), Decimal("4000000.00"))


def test_bad_rows_are_reported_per_row_and_column_and_nothing_is_written(api, org):
    text = (
        CSV_HEADER
        + f"unit-{org.east.pk},East,5000000,7000000,,,\n"  # good
        + f"user-{org.alice.pk},Alice,-5,10,,,\n"  # negative
        + f"user-{org.bob.pk},Bob,abc,10,,,\n"  # not a number
        + f"user-{org.carol.pk},Carol,10,5,,,\n"  # stretch below base
        + f"unit-{org.east.pk},East again,1,2,,,\n"  # duplicate key
        + "unit-999999,Ghost,1,2,,,\n"  # no such unit
        + f"user-{org.dave.pk},Dave,1,2,0.5,0.5,\n"  # two weights of three
    )
    response = upload(api(org.admin), SimpleUploadedFile("t.csv", text.encode()), period="2025Q3")
    assert response.status_code == 200
    body = response.json()
    assert (body["rows"], body["failed"], body["written"]) == (7, 6, False)
    assert {(e["row"], e["field"]) for e in body["errors"]} == {
        (3, "base"),
        (4, "base"),
        (5, "stretch"),
        (6, "key"),
        (7, "key"),
        (8, "w1"),
    }
    assert not Target.objects.exists()


def test_keep_good_rows_writes_the_good_rows_of_a_bad_file(api, org):
    text = CSV_HEADER + f"unit-{org.east.pk},East,5000000,7000000,,,\nbad-key,x,1,2,,,\n"
    response = upload(
        api(org.admin),
        SimpleUploadedFile("t.csv", text.encode()),
        period="2025Q3",
        keep_good_rows="true",
    )
    assert response.status_code == 201
    assert (response.json()["created"], response.json()["failed"]) == (1, 1)
    assert Target.objects.get().owner_unit == org.east


def test_a_dry_run_says_what_would_change_and_writes_nothing(api, org):
    target_create(
        period="2025Q3",
        measure="revenue",
        owner_unit=org.east,
        owner_user=None,
        base=Decimal(1),
        stretch=Decimal(2),
        created_by=org.director,
    )
    file = xlsx(
        [
            row(f"unit-{org.east.pk}", Decimal("5"), Decimal("7"), version=1),
            row(f"unit-{org.north.pk}", Decimal("5"), Decimal("7")),
        ]
    )
    body = upload(api(org.admin), file, dry_run="true").json()
    assert (body["created"], body["updated"], body["written"]) == (1, 1, False)
    assert Target.objects.get().base == Decimal(1)


def test_a_started_quarter_changes_only_through_an_adjustment(api, org):
    target_create(
        period="2025Q2",
        measure="revenue",
        owner_unit=org.east,
        owner_user=None,
        base=Decimal(1),
        stretch=Decimal(2),
        created_by=org.director,
    )
    file = xlsx([row(f"unit-{org.east.pk}", Decimal("5"), Decimal("7"))], period="2025Q2")
    body = upload(api(org.admin), file).json()
    assert body["failed"] == 1 and body["errors"][0]["row"] == 2
    assert Target.objects.get().base == Decimal(1)


def test_the_sheet_title_and_the_asked_quarter_must_agree(api, org):
    file = xlsx([row(f"unit-{org.east.pk}", Decimal("5"), Decimal("7"))])
    response = upload(api(org.admin), file, period="2025Q4")
    assert response.status_code == 400
    assert "period" in response.json()


def test_a_file_without_the_grid_columns_is_refused_whole(api, org):
    file = SimpleUploadedFile("t.csv", b"name,value\na,1\n")
    response = upload(api(org.admin), file, period="2025Q3")
    assert response.status_code == 400
    assert "file" in response.json()


def test_a_director_imports_targets_of_their_scope_only(api, org):
    from targets.models import Role
    from tests.factories import make_user

    east_director = make_user("east_director", roles=[(Role.SALES_DIRECTOR, org.east)])
    client = api(east_director)
    inside = xlsx([row(f"user-{org.alice.pk}", Decimal("5"), Decimal("7"))])
    assert upload(client, inside).status_code == 201
    outside = xlsx(
        [
            row(f"user-{org.bob.pk}", Decimal("5"), Decimal("7")),
            row(f"user-{org.dave.pk}", Decimal("5"), Decimal("7")),
            row(f"unit-{org.company.pk}", Decimal("5"), Decimal("7")),
        ]
    )
    body = upload(client, outside).json()
    assert {(e["row"], e["field"]) for e in body["errors"]} == {(3, "key"), (4, "key")}
    assert not Target.objects.filter(owner_user=org.bob).exists()
    assert Target.objects.count() == 1


def test_only_administrators_and_directors_import_targets(api, org):
    file = xlsx([row(f"user-{org.alice.pk}", Decimal("5"), Decimal("7"))])
    for user in (org.mgr_east, org.hrbp, org.finance, org.alice):
        file.seek(0)
        assert upload(api(user), file).status_code == 403
    assert not Target.objects.exists()
    file.seek(0)
    assert upload(api(org.director), file).status_code == 201

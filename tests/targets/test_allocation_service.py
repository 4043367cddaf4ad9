from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from targets import services
from targets.errors import StateConflict
from targets.models import Target

pytestmark = pytest.mark.django_db

D = Decimal


def test_an_allocation_with_one_refused_child_writes_nothing(org):
    parent = services.target_create(
        period="2099Q1", owner_unit=org.east, base=D(1000), stretch=D(2000)
    )
    children = [
        services.ChildAmounts("unit-1", org.east1, None, None, (D(600), D(700))),
        services.ChildAmounts("unit-2", org.east2, None, None, (D(500), D(400))),
    ]
    with pytest.raises(services.AllocationRejected) as rejected:
        services.target_allocate(
            parent=parent, children=children, created_by=org.director, today=date(2098, 12, 1)
        )
    assert set(rejected.value.errors) == {"unit-2"}
    assert Target.objects.count() == 1


def test_an_allocation_creates_and_updates_children(org):
    parent = services.target_create(
        period="2099Q1", owner_unit=org.east, base=D(1000), stretch=D(2000)
    )
    east1 = services.target_create(period="2099Q1", owner_unit=org.east1, base=D(1), stretch=D(2))
    services.target_allocate(
        parent=parent,
        children=[
            services.ChildAmounts("unit-1", org.east1, None, east1, (D(600), D(700))),
            services.ChildAmounts("unit-2", org.east2, None, None, (D(400), D(500))),
            services.ChildAmounts("user-1", None, org.alice, None, None),
        ],
        created_by=org.director,
        today=date(2098, 12, 1),
    )
    east1.refresh_from_db()
    assert (east1.base, east1.stretch) == (D(600), D(700))
    assert Target.objects.get(owner_unit=org.east2).base == D(400)
    assert not Target.objects.filter(owner_user=org.alice).exists()


def test_a_child_target_deleted_meanwhile_is_a_row_error_not_a_crash(org):
    parent = services.target_create(
        period="2099Q1", owner_unit=org.east, base=D(1000), stretch=D(2000)
    )
    east1 = services.target_create(period="2099Q1", owner_unit=org.east1, base=D(1), stretch=D(2))
    Target.objects.filter(pk=east1.pk).delete()  # someone else, after the page was read
    with pytest.raises(services.AllocationRejected) as rejected:
        services.target_allocate(
            parent=parent,
            children=[services.ChildAmounts("unit-1", org.east1, None, east1, (D(600), D(700)))],
            created_by=org.director,
            today=date(2098, 12, 1),
        )
    assert "已被他人删除" in str(rejected.value.errors["unit-1"])  # zh-hans: the default


def test_changing_a_target_deleted_meanwhile_is_a_conflict(org):
    east1 = services.target_create(period="2099Q1", owner_unit=org.east1, base=D(1), stretch=D(2))
    Target.objects.filter(pk=east1.pk).delete()
    with pytest.raises(StateConflict):
        services.target_update(target=east1, base=D(5), stretch=D(6), today=date(2098, 12, 1))

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from targets import services
from targets.errors import ValidationError
from targets.figures import figures_for
from targets.models import Credit, DealRemoval
from targets.services import Split
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db

D = Decimal


def test_split_cents_always_add_up_to_the_deal(org):
    deal = DealFactory(
        owner=org.alice,
        amount=D("100.00"),
        splits=[
            Split(org.alice, D("33.33")),
            Split(org.bob, D("33.33")),
            Split(org.carol, D("33.34")),
        ],
    )
    cents = sorted(deal.credits.values_list("amount_cents", flat=True))
    assert sum(cents) == 10000
    assert cents == [3333, 3333, 3334]


def test_a_sole_owners_credit_follows_a_change_of_owner(org):
    DealFactory(owner=org.alice, external_id="E-1")
    DealFactory(owner=org.bob, external_id="E-1")
    assert list(Credit.objects.values_list("user__username", flat=True)) == ["bob"]


def test_a_shared_deals_splits_survive_a_reimport_without_splits(org):
    DealFactory(
        owner=org.alice, external_id="E-2", splits=[Split(org.alice, D(50)), Split(org.bob, D(50))]
    )
    DealFactory(owner=org.alice, external_id="E-2", amount=D(300))
    assert dict(Credit.objects.values_list("user__username", "amount_cents")) == {
        "alice": 15000,
        "bob": 15000,
    }


def test_a_deal_that_turns_lost_stops_counting(org):
    target = services.target_create(
        period="2025Q2", owner_user=org.alice, base=D(1000), stretch=D(2000)
    )
    DealFactory(owner=org.alice, external_id="E-3", amount=D(500))
    DealFactory(owner=org.alice, external_id="E-3", amount=D(500), won=False)
    assert figures_for([target], as_of=date(2025, 6, 30))[target.pk].actual == 0


def test_removing_a_deal_takes_it_out_of_actuals_and_logs_it(org):
    target = services.target_create(
        period="2025Q2", owner_user=org.alice, base=D(1000), stretch=D(2000)
    )
    deal = DealFactory(owner=org.alice, external_id="SF-9", source="salesforce", amount=D(500))
    services.deal_remove(deal=deal, reason="deleted in Salesforce")
    assert figures_for([target], as_of=date(2025, 6, 30))[target.pk].actual == 0
    removal = DealRemoval.objects.get()
    assert (removal.source, removal.external_id, removal.amount) == ("salesforce", "SF-9", D(500))


def test_a_revision_keeps_the_old_amounts(org):
    target = services.target_create(
        period="2025Q2", owner_user=org.alice, base=D(1000), stretch=D(2000)
    )
    revision = services.target_revise(
        target=target, base=D(800), stretch=D(1500), reason="竞品降价", decided_by=org.director
    )
    target.refresh_from_db()
    assert (revision.base_before, revision.base_after) == (D(1000), D(800))
    assert (target.original_base, target.base) == (D(1000), D(800))


def test_a_revision_with_stretch_below_base_is_refused(org):
    target = services.target_create(
        period="2025Q2", owner_user=org.alice, base=D(1000), stretch=D(2000)
    )
    with pytest.raises(ValidationError):
        services.target_revise(
            target=target, base=D(800), stretch=D(700), reason="x", decided_by=org.director
        )
    assert target.revisions.count() == 0


def test_amounts_beyond_fifteen_digits_are_refused_by_every_writer(org):
    with pytest.raises(ValidationError) as raised:
        services.target_create(
            period="2025Q2",
            owner_user=org.alice,
            base=D("10000000000000"),
            stretch=D("10000000000000"),
        )
    assert "base" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        DealFactory(owner=org.alice, amount=D("10000000000000"))
    assert "amount" in raised.value.message_dict

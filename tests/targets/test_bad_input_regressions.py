"""Bad input that once answered 500 (issue 5, §1.6): each now gets a readable 4xx."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from targets import services
from targets.forms import AmountField
from targets.models import Target

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def q3(org):
    with time_machine.travel(datetime(2025, 5, 15, 12, tzinfo=ZoneInfo("Asia/Shanghai"))):
        east = services.target_create(
            period="2025Q3",
            owner_unit=org.east,
            base=Decimal(5_000_000),
            stretch=Decimal(7_000_000),
        )
        services.target_create(
            period="2025Q3",
            owner_unit=org.east2,
            base=Decimal(1_000_000),
            stretch=Decimal(1_000_000),
        )
        yield east


@pytest.mark.parametrize("typed", ["1e999999万", "-1e999999万", "9" * 5000 + "万", "1e-999999万"])
def test_an_absurd_amount_in_wan_is_a_form_error_not_an_overflow(typed):
    field = AmountField(max_digits=16, decimal_places=2)
    with pytest.raises(Exception) as raised:
        field.clean(typed)
    assert type(raised.value).__name__ == "ValidationError"


def test_the_allocation_page_refuses_1e999999_wan_on_the_row(client, org, q3):
    client.force_login(org.director)
    with time_machine.travel(datetime(2025, 5, 15, 12, tzinfo=ZoneInfo("Asia/Shanghai"))):
        response = client.post(
            reverse("target-allocate", args=[q3.pk]),
            {
                f"unit-{org.east1.pk}-base": "1e999999万",
                f"unit-{org.east1.pk}-stretch": "1e999999万",
            },
            **EN,
        )
    assert response.status_code == 200
    assert "Enter a number." in response.content.decode()
    assert not Target.objects.filter(owner_unit=org.east1).exists()


def test_the_browsable_api_shows_a_target(api, org, q3):
    response = api(org.director).get(f"/api/v1/targets/{q3.pk}/?format=api")
    assert response.status_code == 200
    assert "text/html" in response["Content-Type"]


@pytest.mark.parametrize("term", ["\x00", "ali\x00ce"])
def test_admin_autocomplete_with_a_nul_character_is_a_bad_request(client, org, term):
    client.force_login(org.admin)
    org.admin.is_staff = org.admin.is_superuser = True
    org.admin.save()
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "targets", "model_name": "deal", "field_name": "owner", "term": term},
        **EN,
    )
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_admin_search_with_a_nul_character_is_a_bad_request(client, org):
    client.force_login(org.admin)
    org.admin.is_staff = org.admin.is_superuser = True
    org.admin.save()
    assert client.get("/admin/targets/deal/", {"q": "\x00"}).status_code == 400


def test_a_nul_character_in_an_api_query_answers_json_400(api, org):
    response = api(org.director).get("/api/v1/deals/", {"source": "\x00"})
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize("unit", ["²", "١٢", "1" * 5000, "99999999999999999999", "-1", "0"])
def test_a_unit_that_is_no_id_is_a_404_page(client, org, unit):
    client.force_login(org.director)
    response = client.get(reverse("home"), {"unit": unit}, **EN)
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()

"""An integrator's Python client, generated from /api/schema/ by openapi-python-client, works.

The client is generated offline from the document the test client fetches, every module of it
is imported, and it then talks to a live server: token, create, read, update with `version`,
list. A schema that only looks right (form bodies beside JSON, a token call demanding a token,
names changing with the language) fails here the way it failed integrators.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from decimal import Decimal
from http import HTTPStatus
from pathlib import Path

import pytest
from django.test import Client as DjangoClient
from django.utils import timezone

from targets.periods import Quarter
from tests.factories import PASSWORD, DealFactory
from tests.test_schema import RESOURCE_TAGS

PACKAGE = "targetpilot_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def generated(tmp_path_factory, django_db_blocker):
    """The generated package, importable; removed from sys.modules afterwards."""
    workdir = tmp_path_factory.mktemp("generated_client")
    with django_db_blocker.unblock():
        response = DjangoClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema_file = workdir / "schema.json"
    schema_file.write_text(json.dumps(response.json()), encoding="utf-8")
    # No formatter hooks: the generated code is imported, not read.
    config = workdir / "config.json"
    config.write_text(json.dumps({"post_hooks": []}), encoding="utf-8")
    if not GENERATOR.exists():
        pytest.fail(f"{GENERATOR} is missing: make install")
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(schema_file),
            "--meta",
            "none",
            "--output-path",
            str(workdir / PACKAGE),
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(workdir))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(workdir))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_every_generated_module_imports(generated):
    names = [info.name for info in pkgutil.walk_packages(generated.__path__, prefix=f"{PACKAGE}.")]
    for name in names:
        importlib.import_module(name)
    # One module per resource tag, named after the resource rather than `v1`.
    tags = {name.split(".")[2] for name in names if name.startswith(f"{PACKAGE}.api.")}
    # The generator names a module after its tag, with "_" for "-".
    assert tags == {tag.replace("-", "_") for tag in RESOURCE_TAGS}


def _client_module(name: str):
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_a_director_creates_reads_and_updates_a_target_through_the_generated_client(
    generated, live_server, transactional_db, org
):
    api = _client_module("api")
    models = _client_module("models")
    token_create = importlib.import_module(f"{api.__name__}.auth.auth_token_create")
    targets_create = importlib.import_module(f"{api.__name__}.targets.targets_create")
    targets_retrieve = importlib.import_module(f"{api.__name__}.targets.targets_retrieve")
    targets_update = importlib.import_module(f"{api.__name__}.targets.targets_partial_update")
    deals_list = importlib.import_module(f"{api.__name__}.deals.deals_list")
    DealFactory(owner=org.alice, amount=Decimal("1000.00"), close_date=timezone.localdate())

    # The token call needs no token: a plain client gets one.
    anonymous = generated.Client(base_url=live_server.url, raise_on_unexpected_status=True)
    token = token_create.sync(
        client=anonymous, body=models.AuthTokenRequest(username="director", password=PASSWORD)
    )
    assert isinstance(token, models.AuthToken)
    director = generated.AuthenticatedClient(
        base_url=live_server.url, token=token.token, prefix="Token", raise_on_unexpected_status=True
    )

    # Next quarter: a target is unlocked until its period starts.
    period = Quarter.of(timezone.localdate()).next().label
    created = targets_create.sync_detailed(
        client=director,
        body=models.TargetInputRequest(
            period=period, owner_user=org.alice.pk, base="300000.00", stretch="450000.00"
        ),
    )
    assert created.status_code == HTTPStatus.CREATED, created.content
    target = created.parsed
    assert isinstance(target, models.Target)
    assert (target.base, target.owner_user, target.version) == ("300000.00", org.alice.pk, 1)

    read = targets_retrieve.sync(client=director, id=target.id)
    assert (read.period, read.locked, read.figures.actual) == (period, False, "0.00")

    changed = targets_update.sync(
        client=director,
        id=target.id,
        body=models.PatchedTargetUpdateRequest(base="320000.00", version=read.version),
    )
    assert isinstance(changed, models.Target)
    assert (changed.base, changed.version) == ("320000.00", read.version + 1)
    # The version just used is stale now: the client gets the conflict, typed.
    stale = targets_update.sync_detailed(
        client=director,
        id=target.id,
        body=models.PatchedTargetUpdateRequest(base="330000.00", version=read.version),
    )
    assert stale.status_code == HTTPStatus.CONFLICT
    assert isinstance(stale.parsed, models.Detail)

    deals = deals_list.sync(client=director, source=models.DealSourceEnum.ERP)
    assert isinstance(deals, models.PaginatedDealList)
    assert [(d.owner, d.amount) for d in deals.results] == [(org.alice.pk, "1000.00")]

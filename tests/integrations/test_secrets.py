"""Connection secrets encrypted at rest (issue 7 §1): ciphertext in the column, a dict in
code, keys from the environment, rotation, and no start without a key in production."""

from __future__ import annotations

import runpy
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection as db

from integrations.crypto import SecretsUnreadable
from integrations.models import Connection
from integrations.services import connection_save
from tests.test_settings import SETTINGS_FILE

pytestmark = pytest.mark.django_db

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def stored(connection: Connection) -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT secrets FROM integrations_connection WHERE id = %s", [connection.pk])
        return cursor.fetchone()[0]


def salesforce(**settings) -> Connection:
    return connection_save(
        kind="salesforce",
        name="Salesforce",
        settings={"client_id": "abc", "client_secret": "TOP-SECRET", **settings},
    )


def test_the_column_holds_ciphertext_and_code_reads_a_dict():
    connection = salesforce()
    raw = stored(connection)
    assert "TOP-SECRET" not in raw
    assert "client_secret" not in raw
    assert raw.startswith("gAAAAA")  # a Fernet token
    fresh = Connection.objects.get(pk=connection.pk)
    assert fresh.secrets["client_secret"] == "TOP-SECRET"
    assert fresh.settings == {"client_id": "abc"}


def test_secrets_written_with_an_old_key_stay_readable_after_a_new_key_is_put_first(settings):
    settings.SECRETS_KEYS = [OLD]
    connection = salesforce()
    settings.SECRETS_KEYS = [NEW, OLD]
    assert Connection.objects.get(pk=connection.pk).secrets == {"client_secret": "TOP-SECRET"}


def test_rotation_re_encrypts_with_the_new_key_so_the_old_one_can_go(settings):
    settings.SECRETS_KEYS = [OLD]
    connection = salesforce()
    before = stored(connection)
    settings.SECRETS_KEYS = [NEW, OLD]
    call_command("rotate_secrets", stdout=sys.stdout)
    after = stored(connection)
    assert after != before
    assert Fernet(NEW.encode()).decrypt(after.encode())  # the new key alone reads it
    settings.SECRETS_KEYS = [NEW]
    assert Connection.objects.get(pk=connection.pk).secrets == {"client_secret": "TOP-SECRET"}


def test_secrets_of_a_dropped_key_are_refused_loudly_not_read_as_empty(settings):
    settings.SECRETS_KEYS = [OLD]
    connection = salesforce()
    settings.SECRETS_KEYS = [NEW]
    with pytest.raises(SecretsUnreadable):
        Connection.objects.get(pk=connection.pk)


def test_a_connection_without_secrets_stores_an_encrypted_empty_object():
    connection = connection_save(kind="erp", name="ERP", settings={"url": "https://erp"})
    assert stored(connection).startswith("gAAAAA")
    assert Connection.objects.get(pk=connection.pk).secrets == {}


def load(monkeypatch, argv=("manage.py", "check"), **env) -> dict:
    for name in ("DEBUG", "SECRET_KEY", "SECRETS_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", list(argv))
    return runpy.run_path(SETTINGS_FILE)


def test_without_debug_the_app_refuses_to_start_without_a_secrets_key(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="SECRETS_KEY is not set"):
        load(monkeypatch, SECRET_KEY="k" * 50)


def test_build_commands_run_without_a_secrets_key(monkeypatch):
    for command in ("makemigrations", "makemessages", "collectstatic"):
        loaded = load(monkeypatch, argv=("manage.py", command))
        assert loaded["SECRETS_KEY_DERIVED"] is True


def test_development_derives_a_key_from_secret_key_and_says_so(monkeypatch, settings):
    loaded = load(monkeypatch, DEBUG="1")
    assert loaded["SECRETS_KEY_DERIVED"] is True
    Fernet(loaded["SECRETS_KEYS"][0].encode())  # a usable key
    from integrations.apps import _derived_secrets_key

    settings.SECRETS_KEY_DERIVED = True
    assert [w.id for w in _derived_secrets_key(None)] == ["integrations.W001"]


def test_several_keys_are_read_comma_separated_first_one_encrypting(monkeypatch):
    loaded = load(monkeypatch, SECRET_KEY="k" * 50, SECRETS_KEY=f"{NEW}, {OLD}")
    assert loaded["SECRETS_KEYS"] == [NEW, OLD]
    assert loaded["SECRETS_KEY_DERIVED"] is False


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_secrets_stored_in_clear_before_it():
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(db)
    executor.migrate([("integrations", "0001_initial")])
    with db.cursor() as cursor:
        cursor.execute(
            "INSERT INTO integrations_connection (kind, name, source, enabled, schedule_minutes,"
            " settings, secrets, last_error, created_at) VALUES"
            " ('webhook', 'Push', 'erp', %s, 15, '{}', %s, '', CURRENT_TIMESTAMP)",
            [True, '{"secret": "s3cr3t"}'],
        )
    executor = MigrationExecutor(db)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    connection = Connection.objects.get(name="Push")
    assert "s3cr3t" not in stored(connection)
    assert connection.secrets == {"secret": "s3cr3t"}

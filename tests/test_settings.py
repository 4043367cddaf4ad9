"""The settings read from the environment: safe in production, convenient in development."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(settings.BASE_DIR)
SETTINGS_FILE = str(ROOT / "config" / "settings.py")
SQLITE = "django.db.backends.sqlite3"


def load_settings(monkeypatch, argv=("manage.py", "check"), **env) -> dict:
    """config/settings.py evaluated afresh under `env` (only these variables of ours set)."""
    for name in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "CONN_MAX_AGE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", list(argv))
    return runpy.run_path(SETTINGS_FILE)


def test_debug_is_off_unless_the_environment_turns_it_on(monkeypatch):
    assert load_settings(monkeypatch, SECRET_KEY="k" * 50)["DEBUG"] is False
    assert load_settings(monkeypatch, DEBUG="1")["DEBUG"] is True


@pytest.mark.parametrize(
    "secret_key",
    [None, "", "dev-only-insecure-key-change-me-in-production", "change-me-before-going-live"],
)
def test_without_debug_a_missing_or_public_key_stops_the_app(monkeypatch, secret_key):
    env = {} if secret_key is None else {"SECRET_KEY": secret_key}
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not set"):
        load_settings(monkeypatch, **env)


def test_with_debug_the_development_key_is_used(monkeypatch):
    loaded = load_settings(monkeypatch, DEBUG="1")
    assert loaded["SECRET_KEY"] == "dev-only-insecure-key-change-me-in-production"


def test_manage_py_refuses_to_start_without_a_key_when_debug_is_off():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env.update(DEBUG="0", DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "set DEBUG=1 for local development" in result.stderr


def test_the_dev_server_keeps_no_database_connection_open(monkeypatch):
    dev = load_settings(monkeypatch, argv=("manage.py", "runserver", "127.0.0.1:8000"), DEBUG="1")
    assert dev["DATABASES"]["default"]["CONN_MAX_AGE"] == 0
    on_postgres = load_settings(
        monkeypatch,
        argv=("manage.py", "runserver"),
        DEBUG="1",
        CONN_MAX_AGE="600",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/x",
    )
    assert on_postgres["DATABASES"]["default"]["CONN_MAX_AGE"] == 0


def test_other_processes_keep_connections_as_configured(monkeypatch):
    web = load_settings(
        monkeypatch, argv=("gunicorn", "config.wsgi"), SECRET_KEY="k" * 50, CONN_MAX_AGE="120"
    )
    assert web["DATABASES"]["default"]["CONN_MAX_AGE"] == 120


def test_sqlite_is_set_up_for_concurrent_writers(monkeypatch):
    default = load_settings(monkeypatch, DEBUG="1")["DATABASES"]["default"]
    assert default["ENGINE"] == SQLITE
    assert default["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert default["OPTIONS"]["timeout"] >= 5
    assert "journal_mode=WAL" in default["OPTIONS"]["init_command"]
    # Tests share the database between threads through a file.
    assert default["TEST"]["NAME"].endswith(".sqlite3")


def test_postgresql_gets_no_sqlite_options(monkeypatch):
    default = load_settings(
        monkeypatch, DEBUG="1", DATABASE_URL="postgres://postgres@127.0.0.1:5432/x"
    )["DATABASES"]["default"]
    assert "transaction_mode" not in default.get("OPTIONS", {})
    assert "init_command" not in default.get("OPTIONS", {})


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != SQLITE, reason="the SQLite database only"
)
@pytest.mark.django_db
def test_the_sqlite_connection_runs_in_wal_mode():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 20_000


def test_failed_logins_are_counted_by_axes_before_any_password_check():
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.AXES_FAILURE_LIMIT == 10
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username"]
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_no_page_shares_a_url_name_with_an_api_route():
    """A page whose name an API route also uses would have its forms post to the API."""
    from collections import Counter

    from django.urls import get_resolver

    names: list[str] = []

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                if not pattern.namespace:
                    walk(pattern.url_patterns)
            elif pattern.name and "format" not in str(pattern.pattern):
                names.append(pattern.name)

    walk(get_resolver().url_patterns)
    assert [name for name, n in Counter(names).items() if n > 1] == []


def test_makemigrations_check_runs_without_a_key():
    """Building and inspecting code signs nothing: no secret needed, even with DEBUG off."""
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env.update(DEBUG="0", DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout

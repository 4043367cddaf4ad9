"""The test suite's settings: production settings (DEBUG off) with a throwaway key.

The key is set in the environment before the settings are read, so settings.py keeps its
rule (no DEBUG, no key: refuse to start) without knowing about tests, and subprocesses the
tests start (manage.py makemessages, …) inherit it.
"""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret-7f3c1b2a9e")
# A Fernet key for connection secrets (tests only): settings refuse to start without one.
os.environ.setdefault("SECRETS_KEY", "Oufsj_OQRwdkbRSnV0xqI6hhXHSaC3i_mZxA9Kk2DEU=")

from config.settings import *  # noqa: F403

# With REDIS_URL the cache is a shared server: keep this run's keys (the token throttle's
# counts) apart from another run's on the same machine.
if "CACHES" in globals():
    CACHES["default"]["KEY_PREFIX"] = f"tests-{os.getpid()}"  # noqa: F405

"""Connection secrets encrypted at rest (Fernet), keys from the environment.

`settings.SECRETS_KEYS` lists the keys, newest first: the first encrypts, every one decrypts
(MultiFernet), so rotating a key is "put the new one first, run `rotate_secrets`, drop the
old one". Code reading a connection still gets a dict: the field decrypts on load.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class SecretsUnreadable(Exception):
    """Stored secrets that none of the configured keys decrypts."""


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            "SECRETS_KEY must be Fernet keys (urlsafe base64 of 32 bytes), comma-separated."
        ) from error


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.SECRETS_KEYS))


def encrypt(value: dict[str, Any]) -> str:
    return fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, Any]:
    try:
        return json.loads(fernet().decrypt(token.encode()))
    except InvalidToken:
        raise SecretsUnreadable(
            "No key in SECRETS_KEY decrypts these secrets: was the key that wrote them dropped?"
        ) from None


def rotate(token: str) -> str:
    """The same secrets encrypted with the first key."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretsUnreadable("No key in SECRETS_KEY decrypts these secrets.") from None


class EncryptedJSONField(models.TextField):
    """A JSON object stored as a Fernet token; Python sees the dict."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return {}
        return decrypt(value)

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        if value in (None, ""):
            return {}
        return decrypt(value)

    def get_prep_value(self, value):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise TypeError("Secrets are a dict of names to values.")
        return encrypt(value)

    def value_to_string(self, obj):
        # Serialising (dumpdata) keeps the ciphertext: a fixture never holds secrets in clear.
        return self.get_prep_value(self.value_from_object(obj))

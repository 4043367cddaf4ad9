"""DingTalk's event callback: verify and decrypt, hand the work on, answer "success"."""

from __future__ import annotations

import json
import logging
from typing import Any

from integrations.models import Connection, ConnectionKind

from .approvals import approval_event
from .crypto import CallbackRefused, DingTalkCrypto
from .tasks import dingtalk_approval_settle

log = logging.getLogger(__name__)


def callback_crypto(connection: Connection) -> DingTalkCrypto:
    """The envelope of one connection; CallbackRefused when it cannot receive callbacks."""
    settings, secrets = connection.settings or {}, connection.secrets or {}
    owner = settings.get("callback_owner_key") or settings.get("app_key")
    token, aes_key = secrets.get("token"), secrets.get("aes_key")
    if connection.kind != ConnectionKind.DINGTALK or not connection.enabled:
        raise CallbackRefused("connection")
    if not (owner and token and aes_key):
        raise CallbackRefused("settings")
    try:
        return DingTalkCrypto(token=token, aes_key=aes_key, owner_key=owner)
    except ValueError:
        raise CallbackRefused("settings") from None


def callback_open(
    *, connection: Connection, msg_signature: str, timestamp: str, nonce: str, body: bytes
) -> dict[str, Any]:
    """The event inside a callback; CallbackRefused unless it is DingTalk's for it."""
    crypto = callback_crypto(connection)
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise CallbackRefused("body") from None
    encrypt = document.get("encrypt") if isinstance(document, dict) else None
    if not isinstance(encrypt, str) or not encrypt:
        raise CallbackRefused("body")
    message = crypto.decrypt(
        msg_signature=msg_signature, timestamp=timestamp, nonce=nonce, encrypt=encrypt
    )
    try:
        event = json.loads(message)
    except ValueError:
        raise CallbackRefused("event") from None
    if not isinstance(event, dict):
        raise CallbackRefused("event")
    return event


def callback_handle(*, connection: Connection, event: dict[str, Any]) -> None:
    """React to a verified event. Settling asks DingTalk who decided, so it runs on a
    worker after the answer; a repeated event finds the instance settled and does nothing."""
    instance_pk = approval_event(connection=connection, event=event)
    if instance_pk is not None:
        dingtalk_approval_settle.delay_on_commit(instance_pk)
    elif event.get("EventType") not in ("check_url", None):
        log.info("DingTalk event %s needs no work", event.get("EventType"))

"""DingTalk's event-subscription envelope (HTTP callback mode).

DingTalk signs every callback with msg_signature = sha1 of the sorted concatenation of
[token, timestamp, nonce, encrypt] and encrypts its body with AES-256-CBC: the key is the
43-character EncodingAESKey base64-decoded (with one "=" appended), the IV its first 16 bytes,
PKCS#7 padding to 32-byte blocks. The plaintext is 16 random bytes, the message length as 4
bytes big-endian, the message, then the owner key (the app key for an app's event
subscription, the corp id for a registered callback). The answer to a callback is the same
envelope around the word "success".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
import struct
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32
_NONCE_CHARS = string.ascii_letters + string.digits


class CallbackRefused(Exception):
    """The callback is not DingTalk's for this connection: answer 4xx and do nothing."""


def _signature(*, token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    joined = "".join(sorted([token, timestamp, nonce, encrypt]))
    return hashlib.sha1(joined.encode()).hexdigest()


class DingTalkCrypto:
    def __init__(self, *, token: str, aes_key: str, owner_key: str):
        if len(aes_key) != 43:
            raise ValueError("The EncodingAESKey has 43 characters.")
        self.token = token
        self.owner_key = owner_key
        self.key = base64.b64decode(aes_key + "=")
        self.iv = self.key[:16]

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.iv))

    def encrypt(self, message: str, *, random_prefix: bytes | None = None) -> str:
        body = message.encode()
        prefix = random_prefix if random_prefix is not None else secrets.token_bytes(16)
        plain = prefix + struct.pack(">I", len(body)) + body + self.owner_key.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, *, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> str:
        """The message, once the signature, the padding and the owner key all check out."""
        expected = _signature(token=self.token, timestamp=timestamp, nonce=nonce, encrypt=encrypt)
        if not hmac.compare_digest(expected, (msg_signature or "").lower()):
            raise CallbackRefused("signature")
        try:
            data = base64.b64decode(encrypt, validate=False)
        except (binascii.Error, ValueError):
            raise CallbackRefused("encoding") from None
        if not data or len(data) % 16:
            raise CallbackRefused("length")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CallbackRefused("padding")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise CallbackRefused("length")
        (length,) = struct.unpack(">I", plain[16:20])
        message, owner = plain[20 : 20 + length], plain[20 + length :]
        if len(message) != length or not hmac.compare_digest(owner, self.owner_key.encode()):
            raise CallbackRefused("owner")
        try:
            return message.decode()
        except UnicodeDecodeError:
            raise CallbackRefused("encoding") from None

    def envelope(
        self, message: str, *, timestamp: str | None = None, nonce: str | None = None
    ) -> dict[str, str]:
        """What DingTalk expects back: the message encrypted and signed."""
        timestamp = timestamp or str(int(time.time() * 1000))
        nonce = nonce or "".join(secrets.choice(_NONCE_CHARS) for _ in range(8))
        encrypt = self.encrypt(message)
        return {
            "msg_signature": _signature(
                token=self.token, timestamp=timestamp, nonce=nonce, encrypt=encrypt
            ),
            "timeStamp": timestamp,
            "nonce": nonce,
            "encrypt": encrypt,
        }

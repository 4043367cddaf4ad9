"""DingTalk's event-subscription envelope: signature, AES-256-CBC, owner key."""

from __future__ import annotations

import base64
import hashlib

import pytest

from integrations.dingtalk.crypto import CallbackRefused, DingTalkCrypto

# Published with DingTalk's own callback crypto library (open-dingtalk/DingTalk-Callback-Crypto).
OFFICIAL = {
    "token": "mryue",
    "aes_key": "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7",
    "owner_key": "ding6ccabc44d2c8d38b",
    "msg_signature": "03044561471240d4a14bb09372dfcfd4fd0e40cb",
    "timestamp": "1608001896814",
    "nonce": "WL4PK6yA",
    "encrypt": "0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15N"
    "RPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3",
}
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")


def official() -> DingTalkCrypto:
    return DingTalkCrypto(
        token=OFFICIAL["token"], aes_key=OFFICIAL["aes_key"], owner_key=OFFICIAL["owner_key"]
    )


def ours(owner_key: str = "dingappkey0001") -> DingTalkCrypto:
    return DingTalkCrypto(token="tok", aes_key=AES_KEY, owner_key=owner_key)


def test_dingtalks_published_check_url_callback_decrypts():
    message = official().decrypt(
        msg_signature=OFFICIAL["msg_signature"],
        timestamp=OFFICIAL["timestamp"],
        nonce=OFFICIAL["nonce"],
        encrypt=OFFICIAL["encrypt"],
    )
    assert message == '{"EventType":"check_url"}'


def test_a_vector_built_by_hand_matches_both_ways():
    """Plaintext 16 fixed bytes + length + message + owner key, padded to 32, AES-256-CBC with
    the key's first 16 bytes as IV, computed here without the class."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = base64.b64decode(AES_KEY + "=")
    prefix = b"0123456789abcdef"
    message = '{"EventType":"bpms_instance_change","type":"finish","result":"agree"}'
    plain = prefix + len(message).to_bytes(4, "big") + message.encode() + b"dingappkey0001"
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    expected = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    assert ours().encrypt(message, random_prefix=prefix) == expected
    signature = hashlib.sha1("".join(sorted(["tok", "1700000000000", "nonce1", expected])).encode())
    assert (
        ours().decrypt(
            msg_signature=signature.hexdigest(),
            timestamp="1700000000000",
            nonce="nonce1",
            encrypt=expected,
        )
        == message
    )


def test_the_success_envelope_opens_with_its_own_signature():
    envelope = ours().envelope("success", timestamp="1700000000000", nonce="abc")
    assert set(envelope) == {"msg_signature", "timeStamp", "nonce", "encrypt"}
    assert (
        ours().decrypt(
            msg_signature=envelope["msg_signature"],
            timestamp=envelope["timeStamp"],
            nonce=envelope["nonce"],
            encrypt=envelope["encrypt"],
        )
        == "success"
    )


def _open(crypto, envelope, **changes):
    values = {
        "msg_signature": envelope["msg_signature"],
        "timestamp": envelope["timeStamp"],
        "nonce": envelope["nonce"],
        "encrypt": envelope["encrypt"],
        **changes,
    }
    return crypto.decrypt(**values)


def test_a_bad_signature_is_refused():
    envelope = ours().envelope("hello")
    with pytest.raises(CallbackRefused):
        _open(ours(), envelope, msg_signature="0" * 40)
    with pytest.raises(CallbackRefused):
        _open(ours(), envelope, nonce="other")


def test_another_apps_message_is_refused_for_its_owner_key():
    envelope = ours(owner_key="someone-else").envelope("hello")
    with pytest.raises(CallbackRefused, match="owner"):
        _open(ours(), envelope)


def test_bad_padding_and_garbage_are_refused():
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = base64.b64decode(AES_KEY + "=")
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    # 64 bytes whose last byte says 0x21 of padding: more than a block of 32.
    plain = b"x" * 63 + b"\x21"
    bad = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
    for encrypt in (bad, "not base64 at all!", base64.b64encode(b"short").decode()):
        signature = hashlib.sha1("".join(sorted(["tok", "1", "n", encrypt])).encode()).hexdigest()
        with pytest.raises(CallbackRefused):
            ours().decrypt(msg_signature=signature, timestamp="1", nonce="n", encrypt=encrypt)


def test_an_aes_key_of_the_wrong_length_is_a_setup_error():
    with pytest.raises(ValueError):
        DingTalkCrypto(token="t", aes_key="short", owner_key="k")

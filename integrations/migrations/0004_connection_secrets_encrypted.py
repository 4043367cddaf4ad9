"""Connection secrets move from a JSON column to Fernet ciphertext; rows stored before are
encrypted in place (and decrypted back on reversal)."""

import json

from django.db import migrations

import integrations.crypto


def _rows(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id, secrets FROM integrations_connection")
        return cursor.fetchall()


def _write(schema_editor, pk, value):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE integrations_connection SET secrets = %s WHERE id = %s", [value, pk]
        )


def encrypt_stored(apps, schema_editor):
    for pk, raw in _rows(schema_editor):
        if isinstance(raw, dict):
            plain = raw
        else:
            try:
                plain = json.loads(raw or "{}")
            except ValueError:
                continue  # already a token
        if isinstance(plain, dict):
            _write(schema_editor, pk, integrations.crypto.encrypt(plain))


def decrypt_stored(apps, schema_editor):
    for pk, raw in _rows(schema_editor):
        _write(schema_editor, pk, json.dumps(integrations.crypto.decrypt(raw) if raw else {}))


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0003_sync_state_and_run_attempts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="connection",
            name="secrets",
            field=integrations.crypto.EncryptedJSONField(
                blank=True, default=dict, editable=False, verbose_name="secrets"
            ),
        ),
        migrations.RunPython(encrypt_stored, decrypt_stored),
    ]

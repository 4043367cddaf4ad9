"""Re-encrypt every connection's secrets with the first key of SECRETS_KEY.

Rotation: put the new key first (`SECRETS_KEY=new,old`), run this, then drop the old key.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from integrations.services import connection_secrets_rotate


class Command(BaseCommand):
    help = "Re-encrypt connection secrets with the first key of SECRETS_KEY."

    def handle(self, *args, **options):
        count = connection_secrets_rotate()
        self.stdout.write(f"Re-encrypted the secrets of {count} connection(s).")

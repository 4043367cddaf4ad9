"""The first administrator of an empty database (README "From an empty database…").

Django's `createsuperuser` makes a superuser without the administrator role, which this app
reads permissions from (SPEC §2); this goes through `user_save` with the role instead.
"""

from __future__ import annotations

import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from targets.models import Role, User
from targets.services import RoleGrant, user_save


class Command(BaseCommand):
    help = "Create (or reset the password of) an administrator."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password",
            default=os.environ.get("ADMIN_PASSWORD", ""),
            help="Default: $ADMIN_PASSWORD, else asked for.",
        )

    def handle(self, *args, username: str, email: str, password: str, **options):
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords differ.")
        if len(password) < 8:
            raise CommandError("Use at least 8 characters.")
        existing = User.objects.filter(username=username).first()
        user = user_save(
            user=existing,
            username=username,
            display_name=existing.display_name if existing else "",
            email=email or (existing.email if existing else ""),
            team=existing.team if existing else None,
            password=password,
            roles=[RoleGrant(role=Role.ADMIN)],
            language=existing.language if existing else "",
        )
        self.stdout.write(f"Administrator '{user.username}' is ready.")

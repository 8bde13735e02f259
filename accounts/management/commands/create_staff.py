"""Create a staff account for the Django admin, with its second factor."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from accounts.staff import staff_create, staff_reset_devices
from audit.commands import AuditedCommand


class Command(AuditedCommand):
    help = (
        "Create a staff account (or, with --reset-devices, give an existing one "
        "new devices) and print its authenticator link and backup codes once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("email", nargs="?", default="")
        parser.add_argument("--superuser", action="store_true")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from standard input instead of asking",
        )
        parser.add_argument("--reset-devices", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["reset_devices"]:
            user = (
                get_user_model()
                .objects.filter(username=options["username"], is_staff=True)
                .first()
            )
            if user is None:
                raise CommandError(f"no staff account {options['username']!r}")
            self._show(staff_reset_devices(user))
            return
        if not options["email"]:
            raise CommandError("give the staff member's email address")
        password = self._password(options["password_stdin"])
        try:
            account = staff_create(
                username=options["username"],
                email=options["email"],
                password=password,
                superuser=options["superuser"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self._show(account)

    def _password(self, from_stdin: bool) -> str:
        if from_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Again: ") != password:
                raise CommandError("the two passwords differ")
        try:
            password_validation.validate_password(password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        return password

    def _show(self, account: Any) -> None:
        self.stdout.write(
            f"Staff account {account.user.username}. Add this to an authenticator "
            "app (shown once):"
        )
        self.stdout.write(f"  {account.otpauth_uri}")
        self.stdout.write("Backup codes, each usable once (shown once):")
        for code in account.backup_codes:
            self.stdout.write(f"  {code}")

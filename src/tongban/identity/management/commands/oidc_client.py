"""``tongban oidc-client``: register and manage department systems as OAuth2 clients.

    tongban oidc-client add --department <USCC> --name NAME --redirect-uri URI [...]
    tongban oidc-client add --department <USCC> --name NAME --client-credentials
    tongban oidc-client list
    tongban oidc-client rotate <CLIENT_ID>
    tongban oidc-client disable <CLIENT_ID> [--reason TEXT]

The secret is printed once; only its hash is stored.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.identity.models import DepartmentSystem
from tongban.identity.services import clients
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import Department
from tongban.kernel.problems import Problem

ACTOR = SystemActor("oidc-client-command")


class Command(BaseCommand):
    help = "Register, list, rotate and disable department systems (OAuth2 / OIDC clients)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Register a department system; print its client id and secret.")
        add.add_argument("--department", required=True, metavar="USCC", help="The department's USCC.")
        add.add_argument("--name", required=True, help="The system's name.")
        add.add_argument(
            "--redirect-uri",
            action="append",
            default=[],
            dest="redirect_uris",
            metavar="URI",
            help="A sign-in redirect URI (repeat for several): registers a sign-in client.",
        )
        add.add_argument(
            "--client-credentials",
            action="store_true",
            help="Register a machine client that calls the API for its department.",
        )
        add.add_argument(
            "--public",
            action="store_true",
            help="A sign-in client that cannot keep a secret (native or mobile app).",
        )
        sub.add_parser("list", help="List department systems (never their secrets).")
        rotate = sub.add_parser("rotate", help="Issue a new secret and revoke every token.")
        rotate.add_argument("client_id")
        disable = sub.add_parser("disable", help="Disable a system for good and revoke every token.")
        disable.add_argument("client_id")
        disable.add_argument("--reason", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except Problem as problem:
            raise CommandError(problem.detail) from problem

    def _add(self, options: dict[str, Any]) -> None:
        redirect_uris: list[str] = options["redirect_uris"]
        if bool(redirect_uris) == bool(options["client_credentials"]):
            raise CommandError(
                "Give either --redirect-uri (a sign-in client) or --client-credentials "
                "(a machine client); register a system twice if it needs both."
            )
        department = Department.objects.filter(uscc=options["department"].strip().upper()).first()
        if department is None:
            raise CommandError(f"No department has the USCC {options['department']}.")
        system, secret = clients.register_department_system(
            actor=ACTOR,
            department=department,
            name=options["name"],
            redirect_uris=redirect_uris or None,
            confidential=not options["public"],
        )
        self.stdout.write(f"client_id: {system.application.client_id}")
        if secret:
            self.stdout.write(f"client_secret: {secret}")
            self.stdout.write(self.style.WARNING("The secret is shown once; only its hash is stored."))

    def _list(self, options: dict[str, Any]) -> None:
        systems = DepartmentSystem.objects.select_related("application", "department").order_by("pk")
        for system in systems:
            application = system.application
            status = "disabled" if clients.is_department_system_disabled(system) else "active"
            kind = (
                "client-credentials"
                if application.authorization_grant_type == application.GRANT_CLIENT_CREDENTIALS
                else f"sign-in ({application.client_type})"
            )
            line = f"{application.client_id}  {status:<8}  {kind:<24}  {system.department.uscc}  {system.name}"
            if application.redirect_uris:
                line += f"  → {application.redirect_uris}"
            self.stdout.write(line)

    def _system(self, client_id: str) -> DepartmentSystem:
        system = (
            DepartmentSystem.objects.select_related("application")
            .filter(application__client_id=client_id)
            .first()
        )
        if system is None:
            raise CommandError(f"No department system has the client id {client_id}.")
        return system

    def _rotate(self, options: dict[str, Any]) -> None:
        secret = clients.rotate_client_secret(self._system(options["client_id"]), actor=ACTOR)
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write(self.style.WARNING("The secret is shown once; every earlier token is revoked."))

    def _disable(self, options: dict[str, Any]) -> None:
        clients.disable_department_system(
            self._system(options["client_id"]), actor=ACTOR, reason=options["reason"]
        )
        self.stdout.write(self.style.SUCCESS(f"Disabled {options['client_id']}; its tokens are revoked."))

"""Registering, rotating and disabling department systems, by service and by command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from oauth2_provider.models import Application

from tongban.identity.models import Account, Appointment, DepartmentSystem, Role
from tongban.identity.services import clients
from tongban.kernel.models import AuditRecord, Department
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied

from .oidc_helpers import PLATFORM, REDIRECT_URI, machine_client, make_account, make_platform_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def department(org) -> Department:
    return org.department("330100", Department.Kind.CIVIL_AFFAIRS)


@pytest.fixture
def platform_admin(org) -> Account:
    return make_platform_admin(org.department("330100", Department.Kind.DATA_BUREAU))


@pytest.fixture
def department_admin(department) -> Account:
    account = Account.objects.create_user(username="dept-admin", kind=Account.Kind.OFFICER)
    Appointment.objects.create(account=account, department=department, role=Role.DEPARTMENT_ADMIN)
    return account


def test_a_platform_admin_registers_a_sign_in_system_and_sees_its_secret_once(platform_admin, department):
    # when
    system, secret = clients.register_department_system(
        actor=platform_admin, department=department, name="Marriage registration", redirect_uris=[REDIRECT_URI]
    )
    # then the client is a trusted, confidential authorization-code client
    application = Application.objects.get(pk=system.application_id)
    assert system.department == department and system.name == "Marriage registration"
    assert application.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert application.client_type == Application.CLIENT_CONFIDENTIAL
    assert application.skip_authorization and application.algorithm == Application.RS256_ALGORITHM
    assert application.redirect_uris == REDIRECT_URI
    # and only a hash of the secret is kept, and the audit record does not hold it
    assert secret and application.client_secret != secret
    assert check_password(secret, application.client_secret)
    entry = AuditRecord.objects.get(action="identity.client.registered")
    assert entry.actor == platform_admin.audit_name
    assert entry.target == f"client:{application.client_id}"
    assert entry.details["department"] == department.uscc
    assert secret not in str(entry.details)


def test_without_redirect_uris_a_system_becomes_a_machine_client(platform_admin, department):
    system, secret = clients.register_department_system(
        actor=platform_admin, department=department, name="Case sync", redirect_uris=None
    )
    application = system.application
    assert application.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS
    assert application.redirect_uris == "" and secret


@pytest.mark.parametrize("who", ["citizen", "department_admin"])
def test_only_a_platform_admin_may_register_a_system(who, department, department_admin):
    # given an outsider: a citizen, or the department's own administrator
    actor = make_account("citizen") if who == "citizen" else department_admin
    # when / then
    with pytest.raises(PermissionDenied):
        clients.register_department_system(
            actor=actor, department=department, name="Rogue system", redirect_uris=[REDIRECT_URI]
        )
    assert not DepartmentSystem.objects.exists() and not Application.objects.exists()
    assert not AuditRecord.objects.filter(action__startswith="identity.client.").exists()


def test_only_a_platform_admin_may_rotate_or_disable(department, department_admin):
    registered = machine_client(department)
    with pytest.raises(PermissionDenied):
        clients.rotate_client_secret(registered.system, actor=department_admin)
    with pytest.raises(PermissionDenied):
        clients.disable_department_system(registered.system, actor=make_account("citizen"))
    assert not clients.is_department_system_disabled(registered.system)


@pytest.mark.parametrize(
    "uri",
    ["javascript:alert(1)", "rp.example/callback", "https://rp.example/callback#fragment", "ftp://rp.example/cb"],
)
def test_a_malformed_redirect_uri_is_refused(platform_admin, department, uri):
    with pytest.raises(InvalidInput):
        clients.register_department_system(
            actor=platform_admin, department=department, name="Bad URI", redirect_uris=[uri]
        )
    assert not Application.objects.exists()


def test_a_machine_client_must_keep_a_secret(platform_admin, department):
    with pytest.raises(InvalidInput):
        clients.register_department_system(
            actor=platform_admin, department=department, name="Public machine", redirect_uris=None,
            confidential=False,
        )


def test_a_disabled_system_stays_disabled(department):
    registered = machine_client(department)
    clients.disable_department_system(registered.system, actor=PLATFORM)
    assert clients.is_department_system_disabled(DepartmentSystem.objects.get(pk=registered.system.pk))
    with pytest.raises(Conflict):
        clients.disable_department_system(registered.system, actor=PLATFORM)
    with pytest.raises(Conflict):
        clients.rotate_client_secret(registered.system, actor=PLATFORM)


def run(*args: str) -> str:
    out = StringIO()
    call_command("oidc_client", *args, stdout=out)
    return out.getvalue()


def test_the_command_registers_lists_and_disables_systems(department):
    # when
    sign_in = run("add", "--department", department.uscc, "--name", "Permit portal",
                  "--redirect-uri", REDIRECT_URI, "--redirect-uri", "https://rp.example/other")
    machine = run("add", "--department", department.uscc, "--name", "Nightly sync", "--client-credentials")
    # then the client id and secret are printed once
    lines = dict(line.split(": ", 1) for line in sign_in.splitlines() if ": " in line)
    application = Application.objects.get(client_id=lines["client_id"])
    assert check_password(lines["client_secret"], application.client_secret)
    assert application.redirect_uris == f"{REDIRECT_URI} https://rp.example/other"
    machine_id = machine.splitlines()[0].removeprefix("client_id: ")
    # and the list shows both, without secrets
    listing = run("list")
    assert lines["client_id"] in listing and machine_id in listing
    assert lines["client_secret"] not in listing
    assert "client-credentials" in listing and department.uscc in listing
    # and a system can be disabled from the command line
    run("disable", machine_id, "--reason", "replaced")
    assert f"{machine_id}  disabled" in run("list")
    entry = AuditRecord.objects.get(action="identity.client.disabled")
    assert entry.actor == "system:oidc-client-command"


def test_the_command_rotates_a_secret(department):
    registered = machine_client(department)
    output = run("rotate", registered.client_id)
    secret = output.splitlines()[0].removeprefix("client_secret: ")
    assert secret != registered.secret
    assert check_password(secret, Application.objects.get(client_id=registered.client_id).client_secret)


@pytest.mark.parametrize(
    "args",
    [
        ["--name", "Neither kind"],
        ["--name", "Both kinds", "--client-credentials", "--redirect-uri", REDIRECT_URI],
    ],
)
def test_the_command_wants_exactly_one_kind_of_client(department, args):
    with pytest.raises(CommandError):
        run("add", "--department", department.uscc, *args)
    assert not Application.objects.exists()


def test_the_command_refuses_an_unknown_department(org):
    with pytest.raises(CommandError, match="USCC"):
        run("add", "--department", "91330000000000000X", "--name", "Nowhere", "--client-credentials")

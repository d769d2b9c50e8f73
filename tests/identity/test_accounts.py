"""Accounts: real-name registration, sign-in protection, second factors, officers, delegation."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from django.utils import timezone, translation

from tongban.identity import services as identity
from tongban.identity.models import Account, Delegation, Role
from tongban.kernel.audit import verify_chain
from tongban.kernel.models import AuditRecord, Department
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied
from tongban.registries.models import LegalEntity

from .conftest import PASSWORD, SYSTEM, current_code

pytestmark = pytest.mark.django_db


# -- registration with real name ---------------------------------------------------------------


def test_registration_binds_the_account_to_the_matching_person(people):
    account = identity.register_citizen(
        username="li", password=PASSWORD, name=people[5]["name"], id_number=people[5]["id_number"]
    )
    assert account.is_real_name_verified
    assert account.person.name == people[5]["name"]
    assert account.assurance_level == Account.Assurance.REAL_NAME


def test_registration_with_a_wrong_id_number_creates_nothing(people):
    # given an ID number that is valid but belongs to someone else
    before = (Account.objects.count(), AuditRecord.objects.count())
    # when
    with translation.override("en"), pytest.raises(InvalidInput, match="do not match"):
        identity.register_citizen(
            username="li", password=PASSWORD, name=people[5]["name"], id_number=people[6]["id_number"]
        )
    # then
    assert (Account.objects.count(), AuditRecord.objects.count()) == before


def test_a_person_can_hold_only_one_account(citizen, people):
    with pytest.raises(Conflict):
        identity.register_citizen(
            username="again", password=PASSWORD, name=people[20]["name"], id_number=people[20]["id_number"]
        )


@pytest.mark.parametrize("password", ["short", "1234567890", "password123", "woaini1314"])
def test_weak_passwords_are_refused(people, password):
    with pytest.raises(InvalidInput):
        identity.register_citizen(
            username="li", password=password, name=people[5]["name"], id_number=people[5]["id_number"]
        )
    assert not Account.objects.filter(username="li").exists()


# -- sign-in ------------------------------------------------------------------------------------


def test_sign_in_with_the_right_password_is_audited(citizen):
    account = identity.sign_in(username="citizen", password=PASSWORD)
    assert account == citizen
    assert AuditRecord.objects.filter(action="identity.sign_in", result="success",
                                      target=citizen.audit_name).exists()


def test_unknown_account_and_wrong_password_get_the_same_message(citizen):
    with pytest.raises(identity.SignInFailed) as unknown:
        identity.sign_in(username="nobody", password=PASSWORD)
    with pytest.raises(identity.SignInFailed) as wrong:
        identity.sign_in(username="citizen", password="wrong-password-1")
    assert unknown.value.detail == wrong.value.detail


def test_five_failures_lock_the_account_even_for_the_right_password(citizen):
    for _ in range(5):
        with pytest.raises(identity.SignInFailed):
            identity.sign_in(username="citizen", password="wrong-password-1")
    citizen.refresh_from_db()
    assert citizen.locked_until is not None and citizen.locked_until > timezone.now()
    with pytest.raises(identity.SignInFailed):
        identity.sign_in(username="citizen", password=PASSWORD)
    assert AuditRecord.objects.filter(action="identity.sign_in", result="failure").count() == 6
    assert verify_chain() is None


def test_the_lock_expires(citizen):
    Account.objects.filter(pk=citizen.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert identity.sign_in(username="citizen", password=PASSWORD) == citizen


def test_officers_cannot_use_the_citizen_sign_in(make_officer):
    make_officer("officer")
    with pytest.raises(identity.SignInFailed):
        identity.sign_in(username="officer", password=PASSWORD)


# -- second factor ------------------------------------------------------------------------------


def test_officer_passes_with_a_current_code_only_once(make_officer):
    officer = make_officer("officer")
    code = current_code(officer)
    identity.sign_in(username="officer", password=PASSWORD, kind=Account.Kind.OFFICER)
    assert identity.verify_second_factor(officer, code=code) == officer
    with pytest.raises(identity.SignInFailed):
        identity.verify_second_factor(officer, code=code)  # replay


def test_a_wrong_code_counts_towards_the_lock(make_officer):
    officer = make_officer("officer")
    for _ in range(5):
        with pytest.raises(identity.SignInFailed):
            identity.verify_second_factor(officer, code="000000" if current_code(officer) != "000000" else "111111")
    officer.refresh_from_db()
    assert officer.locked_until is not None
    with pytest.raises(identity.SignInFailed):
        identity.verify_second_factor(officer, code=current_code(officer))


def test_citizen_second_factor_raises_assurance(citizen):
    secret = identity.enroll_totp(citizen, actor=citizen)
    identity.confirm_totp(citizen, actor=citizen, code=pyotp.TOTP(secret).now())
    citizen.refresh_from_db()
    assert citizen.assurance_level == Account.Assurance.SECOND_FACTOR


def test_another_person_cannot_enroll_my_second_factor(citizen, other_citizen):
    with pytest.raises(PermissionDenied):
        identity.enroll_totp(citizen, actor=other_citizen)


def test_totp_secrets_are_encrypted_at_rest(make_officer):
    from django.db import connection

    officer = make_officer("officer")
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM identity_account WHERE id = %s", [officer.pk])
        raw = cursor.fetchone()[0]
    assert officer.totp_secret not in raw


# -- officers and roles -------------------------------------------------------------------------


def test_department_admin_appoints_in_own_department_only(org, make_officer):
    admin = make_officer("admin", roles=[Role.DEPARTMENT_ADMIN])
    officer = make_officer("officer", kind=Department.Kind.TAX)
    own = org.department("330100", Department.Kind.MARKET_REGULATION)
    other = org.department("330100", Department.Kind.TAX)
    identity.appoint_officer(officer, actor=admin, department=own, role=Role.REVIEWER)
    with pytest.raises(PermissionDenied):
        identity.appoint_officer(officer, actor=admin, department=other, role=Role.REVIEWER)
    with pytest.raises(PermissionDenied):
        identity.appoint_officer(officer, actor=admin, department=own, role=Role.PLATFORM_ADMIN)
    assert AuditRecord.objects.filter(action="identity.role.granted").count() == 1


def test_a_citizen_cannot_create_officers(org, citizen):
    with pytest.raises(PermissionDenied):
        identity.create_officer(
            actor=citizen, username="fake", password=PASSWORD,
            department=org.department("330100", Department.Kind.TAX), roles=[Role.REVIEWER],
        )
    assert not Account.objects.filter(username="fake").exists()


def test_reviewers_see_whole_id_numbers_and_data_officers_do_not(make_officer):
    reviewer = make_officer("reviewer", roles=[Role.REVIEWER])
    data_officer = make_officer("data", roles=[Role.DATA_OFFICER])
    assert reviewer.has_perm("registries.view_full_id_number")
    assert not data_officer.has_perm("registries.view_full_id_number")


# -- passwords and sessions ---------------------------------------------------------------------


def test_changing_the_password_changes_the_session_hash(citizen):
    before = citizen.get_session_auth_hash()
    identity.change_password(citizen, actor=citizen, old_password=PASSWORD, new_password="Another-Good-Pass-42")
    assert citizen.get_session_auth_hash() != before


def test_sign_out_everywhere_changes_the_session_hash(citizen):
    before = citizen.get_session_auth_hash()
    identity.sign_out_everywhere(citizen, actor=citizen)
    assert citizen.get_session_auth_hash() != before


def test_a_wrong_current_password_changes_nothing(citizen):
    with pytest.raises(InvalidInput):
        identity.change_password(citizen, actor=citizen, old_password="nope-nope-1", new_password="Another-Good-Pass-42")
    citizen.refresh_from_db()
    assert citizen.check_password(PASSWORD)


# -- acting for a legal entity ------------------------------------------------------------------


@pytest.fixture
def owner(people):
    entity = LegalEntity.objects.order_by("pk").first()
    index = next(i for i, p in enumerate(people) if p["name"] == entity.legal_representative.name
                 and entity.legal_representative.id_number == p["id_number"])
    return identity.register_citizen(
        username="owner", password=PASSWORD, name=people[index]["name"], id_number=people[index]["id_number"]
    ), entity


def test_legal_representative_acts_for_the_entity(owner):
    account, entity = owner
    assert identity.can_act_for(account, entity.pk)


def test_delegation_lets_another_person_act_until_it_expires(owner, citizen):
    account, entity = owner
    delegation = identity.delegate_entity(
        entity, actor=account, delegate=citizen, valid_until=timezone.now() + timedelta(days=30)
    )
    assert identity.can_act_for(citizen, entity.pk)
    Delegation.objects.filter(pk=delegation.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    assert not identity.can_act_for(citizen, entity.pk)


def test_revoked_delegation_stops_at_once(owner, citizen):
    account, entity = owner
    delegation = identity.delegate_entity(
        entity, actor=account, delegate=citizen, valid_until=timezone.now() + timedelta(days=30)
    )
    identity.revoke_delegation(delegation, actor=account)
    assert not identity.can_act_for(citizen, entity.pk)


def test_only_the_legal_representative_can_delegate(owner, citizen, other_citizen):
    _, entity = owner
    with pytest.raises(PermissionDenied):
        identity.delegate_entity(
            entity, actor=citizen, delegate=other_citizen, valid_until=timezone.now() + timedelta(days=30)
        )
    assert not identity.can_act_for(other_citizen, entity.pk)


def test_delegation_longer_than_a_year_is_refused(owner, citizen):
    account, entity = owner
    with pytest.raises(InvalidInput):
        identity.delegate_entity(
            entity, actor=account, delegate=citizen, valid_until=timezone.now() + timedelta(days=400)
        )


def test_system_actor_creates_officers(org):
    officer = identity.create_officer(
        actor=SYSTEM, username="sys-made", password=PASSWORD,
        department=org.department("330200", Department.Kind.HEALTH), roles=[Role.REVIEWER],
    )
    assert officer.is_officer and officer.totp_secret

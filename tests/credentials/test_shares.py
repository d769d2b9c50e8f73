"""A holder shows a licence through a time-limited link that discloses only the fields they pick (亮证)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.catalog.fixtures import PASSWORD, make_person
from tongban.credentials import services as credentials
from tongban.credentials.models import Share
from tongban.identity import services as identity
from tongban.kernel.models import AuditRecord
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder_and_licence(married_holder):
    return married_holder


def test_a_share_shows_the_chosen_fields_and_hides_the_rest(holder_and_licence):
    account, licence, _officer = holder_and_licence
    share, token = credentials.share_licence(licence, actor=account, fields=["registered_on"], duration="1h")
    shown = credentials.open_share(token)
    assert shown.outcome == "valid" and shown.issuer_name == licence.issuer.name
    names = [field.name for field in shown.fields]
    assert names == ["certificate_number", "name", "registered_on"]
    assert "张丽" not in str(shown.fields) and licence.holder_person.id_number not in str(shown.fields)
    assert {field.title for field in shown.fields} == {"结婚证字号", "持证人", "登记日期"}
    assert AuditRecord.objects.filter(action="credentials.licence.share_opened").count() == 1
    assert share.token == token and share.token_digest != token


def test_a_withdrawn_or_expired_share_shows_nothing(holder_and_licence):
    account, licence, _officer = holder_and_licence
    share, token = credentials.share_licence(licence, actor=account, fields=[], duration="10m")
    credentials.withdraw_share(share, actor=account)
    assert credentials.open_share(token).outcome == "share_ended"
    assert credentials.open_share(token).fields == []
    other, other_token = credentials.share_licence(licence, actor=account, fields=[], duration="10m")
    Share.objects.filter(pk=other.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert credentials.open_share(other_token).outcome == "share_ended"
    assert credentials.open_share("no-such-token") is None


def test_a_share_of_a_revoked_licence_says_so_and_a_revoked_licence_cannot_be_shared(holder_and_licence):
    account, licence, officer = holder_and_licence
    _share, token = credentials.share_licence(licence, actor=account, fields=["spouse_name"], duration="1d")
    credentials.revoke_licence(licence, actor=officer, reason="Divorce registered")
    assert credentials.open_share(token).outcome == "revoked"
    licence.refresh_from_db()
    with pytest.raises(Conflict):
        credentials.share_licence(licence, actor=account, fields=[], duration="1h")


def test_only_the_holder_shares_only_disclosable_fields(holder_and_licence):
    account, licence, _officer = holder_and_licence
    stranger_person = make_person(name="李四")
    stranger = identity.register_citizen(username="li", password=PASSWORD, name=stranger_person.name,
                                         id_number=stranger_person.id_number)
    with pytest.raises(PermissionDenied):
        credentials.share_licence(licence, actor=stranger, fields=[], duration="1h")
    with pytest.raises(InvalidInput):
        credentials.share_licence(licence, actor=account, fields=["certificate_number"], duration="1h")
    with pytest.raises(InvalidInput):
        credentials.share_licence(licence, actor=account, fields=[], duration="forever")
    share, _token = credentials.share_licence(licence, actor=account, fields=[], duration="1h")
    with pytest.raises(PermissionDenied):
        credentials.withdraw_share(share, actor=stranger)
    assert Share.objects.get().withdrawn_at is None


def test_the_wallet_lists_a_holders_licences_only(holder_and_licence):
    account, licence, _officer = holder_and_licence
    assert list(credentials.licences_held_by(person_id=account.person_id)) == [licence]
    assert not credentials.licences_held_by(person_id=make_person(name="赵六").pk).exists()
    assert not credentials.licences_held_by().exists()

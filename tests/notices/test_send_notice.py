"""send_notice: the inbox notice and its outbox rows are written in the caller's transaction."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from tests.notices.conftest import SAMPLE, make_citizen
from tongban.kernel.models import AuditRecord
from tongban.kernel.problems import InvalidInput, PermissionDenied
from tongban.notices import services as notices
from tongban.notices.models import Delivery, Notice

pytestmark = pytest.mark.django_db


def delivery_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path__endswith="deliver_notices"))


def test_a_notice_goes_to_the_inbox_and_one_outbox_row_per_external_channel(recipient, sender):
    # given a citizen with an email address and a mobile number
    # when an officer sends them a notice
    notice = notices.send_notice(recipient, "case.accepted", SAMPLE, actor=sender, link="/me/cases/123/")

    # then the notice is in their inbox, rendered in Chinese, unread, with a pending email and SMS
    assert notice.recipient == recipient and notice.in_inbox and notice.read_at is None
    assert notice.subject == "您的申请已受理（330100-2026-000123）"
    assert "个体工商户设立登记" in notice.body and notice.link == "/me/cases/123/"
    assert notice.short_text.startswith("【通办】")
    assert sorted(notice.deliveries.values_list("channel", "status", "attempts")) == [
        ("email", "pending", 0), ("sms", "pending", 0)]
    # and one audit record without the addresses
    record = AuditRecord.objects.get(action="notices.notice.sent")
    assert record.target == f"account:{recipient.pk}" and record.actor == sender.audit_name
    assert "li.na@example.cn" not in str(record.details) and "13812345678" not in str(record.details)


def test_only_the_chosen_channels_get_outbox_rows(recipient, sender):
    notice = notices.send_notice(recipient, "case.approved", SAMPLE, actor=sender, channels=("email",))

    assert not notice.in_inbox
    assert list(notice.deliveries.values_list("channel", flat=True)) == ["email"]
    assert not notices.inbox(recipient).exists()


def test_a_rolled_back_business_action_leaves_nothing_to_send(recipient, sender, django_capture_on_commit_callbacks):
    # given a business action that sends a notice and then fails
    with (django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError),
          transaction.atomic()):
        notices.send_notice(recipient, "case.accepted", SAMPLE, actor=sender)
        raise RuntimeError("the case could not be saved")

    # then nothing is in the inbox or the outbox, and no delivery was asked for
    assert not Notice.objects.exists() and not Delivery.objects.exists()
    assert callbacks == [] and delivery_tasks() == []


def test_delivery_is_asked_for_only_when_the_transaction_commits(recipient, sender,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notices.send_notice(recipient, "case.accepted", SAMPLE, actor=sender)
        # before the commit: the rows exist in the transaction, no task yet
        assert Delivery.objects.count() == 2 and delivery_tasks() == []

    for callback in callbacks:
        callback()
    assert [task.status for task in delivery_tasks()] == ["READY"]


def test_a_citizen_cannot_send_a_notice_to_another(recipient, other_citizen):
    with pytest.raises(PermissionDenied):
        notices.send_notice(recipient, "case.accepted", SAMPLE, actor=other_citizen)

    assert not Notice.objects.exists() and not AuditRecord.objects.filter(action="notices.notice.sent").exists()


@pytest.mark.parametrize(("template", "context", "channels", "link", "field"), [
    ("case.unknown", SAMPLE, ("inbox",), None, "template"),
    ("case.accepted", {"case_number": "1"}, ("inbox",), None, "context"),
    ("case.accepted", SAMPLE, ("inbox", "fax"), None, "channels"),
    ("case.accepted", SAMPLE, (), None, "channels"),
    ("case.accepted", SAMPLE, ("inbox",), "https://phish.example/login", "link"),
    ("case.accepted", SAMPLE, ("inbox",), "//phish.example/login", "link"),
])
def test_a_notice_that_cannot_be_written_is_refused_and_nothing_is_written(recipient, sender, template, context,
                                                                            channels, link, field):
    with pytest.raises(InvalidInput) as refused:
        notices.send_notice(recipient, template, context, actor=sender, channels=channels, link=link)

    assert refused.value.extensions["field"] == field
    assert not Notice.objects.exists() and not Delivery.objects.exists()


def test_a_recipient_without_an_address_gets_skipped_rows_saying_why(other_citizen, sender, system):
    # given a citizen without a mobile number, and one without an email address either
    no_email = make_citizen("no-email", name="钱七")

    first = notices.send_notice(other_citizen, "case.accepted", SAMPLE, actor=system)
    second = notices.send_notice(no_email, "case.accepted", SAMPLE, actor=sender)

    assert dict(first.deliveries.values_list("channel", "status")) == {"email": "pending", "sms": "skipped"}
    assert first.deliveries.get(channel="sms").last_error == "the account has no mobile number for notices"
    assert dict(second.deliveries.values_list("channel", "last_error")) == {
        "email": "the account has no email address", "sms": "the account has no mobile number for notices"}
    assert not second.deliveries.filter(status="pending").exists()


def test_a_notice_is_written_in_the_language_the_recipient_chose(recipient, sender):
    notices.set_contact(recipient, actor=recipient, phone="", language="en")

    notice = notices.send_notice(recipient, "licence.issued", {"licence_name": "Marriage certificate",
                                                               "issuer": "Hangzhou Civil Affairs"}, actor=sender)

    assert notice.language == "en"
    assert notice.subject == "Your e-licence has been issued: Marriage certificate"
    assert dict(notice.deliveries.values_list("channel", "status"))["sms"] == "skipped"


def test_only_the_account_holder_sets_how_they_are_notified(recipient, other_citizen):
    with pytest.raises(PermissionDenied):
        notices.set_contact(recipient, actor=other_citizen, phone="13900000000", language="en")

    assert notices.contact_of(recipient).phone == "13812345678"


@pytest.mark.parametrize(("given", "stored"), [
    ("138 1234 5678", "13812345678"), ("+86 138-1234-5678", "13812345678"), ("+85291234567", "+85291234567"),
    ("", None),
])
def test_a_mobile_number_is_stored_in_one_form(recipient, given, stored):
    assert notices.set_contact(recipient, actor=recipient, phone=given, language="zh-hans").phone == stored


@pytest.mark.parametrize("phone", ["12345", "021-12345678", "call me"])
def test_a_number_that_is_not_a_mobile_number_is_refused(recipient, phone):
    with pytest.raises(InvalidInput):
        notices.set_contact(recipient, actor=recipient, phone=phone, language="zh-hans")

    assert notices.contact_of(recipient).phone == "13812345678"


def test_the_mobile_number_is_encrypted_at_rest(recipient):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM notices_contact WHERE account_id = %s", [recipient.pk])
        (stored,) = cursor.fetchone()

    assert "13812345678" not in stored

"""Delivery: the outbox rows are sent by email (to a real SMTP server) and SMS, retried, and sent once."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.notices.conftest import PHONE, SAMPLE
from tests.registries.import_files import run_queued_tasks
from tongban.kernel.problems import Conflict, PermissionDenied
from tongban.notices import services as notices
from tongban.notices.models import Delivery
from tongban.notices.sms import read_sent_messages
from tongban.notices.tasks import schedule_delivery

pytestmark = pytest.mark.django_db


def send(recipient, sender, channels=("inbox", "email", "sms"), template="case.accepted", context=SAMPLE):
    return notices.send_notice(recipient, template, context, actor=sender, channels=channels,
                               link="/me/cases/123/")


def email_of(notice) -> Delivery:
    return notice.deliveries.get(channel="email")


def test_the_worker_delivers_a_committed_notice_by_email_and_sms(recipient, sender, smtp_server, sms_file,
                                                                 django_capture_on_commit_callbacks):
    # given a notice whose transaction committed (its delivery task is queued)
    with django_capture_on_commit_callbacks(execute=True):
        notice = send(recipient, sender)

    # when the worker runs
    run_queued_tasks()

    # then the email reached the SMTP server and the SMS the local gateway, and both rows are sent
    assert smtp_server.mailbox.recipients == [["li.na@example.cn"]]
    assert [(m["to"], m["text"]) for m in read_sent_messages(sms_file)] == [(PHONE, notice.short_text)]
    assert sorted(notice.deliveries.values_list("channel", "status", "attempts")) == [
        ("email", "sent", 1), ("sms", "sent", 1)]
    assert all(delivery.sent_at and delivery.provider_message_id for delivery in notice.deliveries.all())


def test_the_email_is_multipart_with_chinese_text_correctly_encoded(recipient, sender, smtp_server):
    notice = send(recipient, sender, channels=("email",),
                  context={**SAMPLE, "service_name": "个体工商户<设立>登记 & 变更"})

    notices.deliver_due(actor=notices_system())

    [message] = smtp_server.mailbox.messages
    delivery = email_of(notice)
    # headers: the Chinese subject and sender name survive RFC 2047 encoding
    # (Django folds the encoded subject onto a continuation line; unfolding leaves the space before it.)
    assert message["Subject"].strip() == "您的申请已受理（330100-2026-000123）"
    assert "=?utf-8?b?" in message.as_string()
    assert message["From"].addresses[0].display_name == "通办 Tongban"
    assert message["From"].addresses[0].addr_spec == "noreply@tongban.example.gov.cn"
    assert message["To"] == "li.na@example.cn"
    assert message["Message-ID"] == delivery.provider_message_id == f"<notice-{delivery.uuid}@127.0.0.1>"
    assert message["Auto-Submitted"] == "auto-generated"
    # both parts, in UTF-8, the text one as written and the HTML one escaped
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    assert "您申请的“个体工商户<设立>登记 & 变更”已受理" in text.get_content()
    assert "http://127.0.0.1:8000/me/cases/123/" in text.get_content()
    assert "个体工商户&lt;设立&gt;登记 &amp; 变更" in html.get_content()
    assert "<设立>" not in html.get_content()
    assert '<a href="http://127.0.0.1:8000/me/cases/123/">' in html.get_content()


def notices_system():
    from tongban.kernel.actors import SystemActor

    return SystemActor("tests-delivery")


def test_an_sms_goes_to_the_local_gateway_and_the_log_masks_the_number(recipient, sender, sms_file, caplog):
    notice = send(recipient, sender, channels=("sms",))

    with caplog.at_level(logging.INFO, logger="tongban.notices"):
        notices.deliver_due(actor=notices_system())

    [message] = read_sent_messages(sms_file)
    assert message["to"] == PHONE and message["text"].startswith("【通办】您申请的“个体工商户设立登记”已受理")
    assert notice.deliveries.get().provider_message_id == message["id"]
    assert "138****5678" in caplog.text and PHONE not in caplog.text
    assert oct(sms_file.stat().st_mode & 0o777) == "0o600"


def test_when_the_smtp_server_is_down_the_email_is_retried_with_backoff_until_it_is_up(
        recipient, sender, smtp_down, settings, django_capture_on_commit_callbacks):
    # given a notice and a mail server that is down
    settings.NOTICES_RETRY_BASE_SECONDS = 60
    notice = send(recipient, sender, channels=("email",))
    start = timezone.now()

    # when delivery runs: the first attempt fails, and a retry is due one minute later, with a task for then
    with django_capture_on_commit_callbacks(execute=True):
        first = notices.deliver_due(actor=notices_system(), now=start)
    delivery = email_of(notice)
    assert (first.retrying, first.sent) == (1, 0)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at == start + timedelta(seconds=60)
    assert "ConnectionRefusedError" in delivery.last_error
    [task] = DBTaskResult.objects.filter(task_path__endswith="deliver_notices")
    assert task.run_after == delivery.next_attempt_at

    # a run before the retry is due sends nothing; the second failure doubles the delay
    assert notices.deliver_due(actor=notices_system(), now=start + timedelta(seconds=59)).handled == 0
    notices.deliver_due(actor=notices_system(), now=start + timedelta(seconds=60))
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.next_attempt_at == start + timedelta(seconds=60 + 120)

    # then once the server is up, the next attempt delivers it
    smtp_down.start()
    run = notices.deliver_due(actor=notices_system(), now=start + timedelta(seconds=180))
    delivery.refresh_from_db()
    assert run.sent == 1 and (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, "")
    assert len(smtp_down.mailbox.messages) == 1


def test_after_the_last_attempt_a_delivery_is_marked_failed(recipient, sender, smtp_down, settings):
    settings.NOTICES_MAX_ATTEMPTS = 3
    notice = send(recipient, sender, channels=("email",))
    at = timezone.now()

    for _attempt in range(3):
        notices.deliver_due(actor=notices_system(), now=at)
        at += timedelta(days=1)

    delivery = email_of(notice)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)
    assert delivery.failed_at is not None and "ConnectionRefusedError" in delivery.last_error
    # and a failed delivery is never tried again by itself
    smtp_down.start()
    assert notices.deliver_due(actor=notices_system(), now=at).handled == 0
    assert smtp_down.mailbox.messages == []


def test_a_recipient_refused_for_good_fails_at_once(recipient, sender, smtp_server):
    smtp_server.mailbox.refuse_with = "550 5.1.1 No such mailbox"
    notice = send(recipient, sender, channels=("email",))

    run = notices.deliver_due(actor=notices_system())

    delivery = email_of(notice)
    assert run.failed == 1 and (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == "SMTP server refused the recipient (550)"


def test_a_task_run_twice_sends_each_message_once(recipient, sender, smtp_server, sms_file,
                                                  django_capture_on_commit_callbacks):
    # given a committed notice and its delivery task queued twice over
    with django_capture_on_commit_callbacks(execute=True):
        send(recipient, sender)
    schedule_delivery()
    assert DBTaskResult.objects.filter(task_path__endswith="deliver_notices", status="READY").count() == 2

    # when the worker runs both, and delivery runs once more
    run_queued_tasks()
    again = notices.deliver_due(actor=notices_system())

    # then each message went out once
    assert len(smtp_server.mailbox.messages) == 1 and len(read_sent_messages(sms_file)) == 1
    assert again.handled == 0


def test_a_row_being_sent_is_not_claimed_again_until_its_claim_lapses(recipient, sender, smtp_server, settings):
    # given a delivery claimed by a worker that then died before recording anything
    notice = send(recipient, sender, channels=("email",))
    now = timezone.now()
    from tongban.notices.services import _claim

    assert _claim(now, 10) is not None
    delivery = email_of(notice)
    assert delivery.status == "sending"

    # when another worker runs while the claim holds, it leaves the row alone
    assert notices.deliver_due(actor=notices_system(), now=now).handled == 0
    assert smtp_server.mailbox.messages == []

    # and once the claim has lapsed it takes the row over and sends it (the lost attempt counts)
    later = now + timedelta(seconds=settings.NOTICES_CLAIM_SECONDS + 1)
    assert notices.deliver_due(actor=notices_system(), now=later).sent == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2) and len(smtp_server.mailbox.messages) == 1


def test_the_sweep_command_sends_rows_whose_task_was_lost(recipient, sender, smtp_server, capsys):
    # given a committed notice whose task never ran (the queue was cleared)
    send(recipient, sender, channels=("email",))
    DBTaskResult.objects.all().delete()

    call_command("notices", "deliver")

    assert len(smtp_server.mailbox.messages) == 1
    assert "Sent 1, retrying 0, failed 0, skipped 0." in capsys.readouterr().out


def test_a_recipient_who_removed_their_number_gets_a_skipped_sms(recipient, sender, sms_file):
    notice = send(recipient, sender, channels=("sms",))
    notices.set_contact(recipient, actor=recipient, phone="", language="zh-hans")

    run = notices.deliver_due(actor=notices_system())

    assert run.skipped == 1 and read_sent_messages(sms_file) == []
    assert notice.deliveries.get().last_error == "the account has no mobile number for notices"


def test_only_the_platform_runs_delivery(sender):
    with pytest.raises(PermissionDenied):
        notices.deliver_due(actor=sender)


def failed_email(recipient, sender, settings) -> Delivery:
    settings.NOTICES_MAX_ATTEMPTS = 1
    notice = send(recipient, sender, channels=("email",))
    notices.deliver_due(actor=notices_system())
    delivery = email_of(notice)
    assert delivery.status == "failed"
    return delivery


def test_a_platform_administrator_retries_a_failed_delivery(recipient, sender, platform_admin, smtp_down, settings,
                                                            django_capture_on_commit_callbacks):
    # given an email that failed while the server was down, and the server up again
    delivery = failed_email(recipient, sender, settings)
    smtp_down.start()

    # when a platform administrator retries it
    with django_capture_on_commit_callbacks(execute=True):
        assert notices.retry_deliveries([delivery], actor=platform_admin) == 1
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.failed_at is None

    # then the worker sends it
    run_queued_tasks()
    delivery.refresh_from_db()
    assert delivery.status == "sent" and len(smtp_down.mailbox.messages) == 1


def test_an_officer_without_the_permission_cannot_retry_a_delivery(recipient, sender, smtp_down, settings):
    delivery = failed_email(recipient, sender, settings)

    with pytest.raises(PermissionDenied):
        notices.retry_deliveries([delivery], actor=sender)

    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_a_delivery_that_has_not_failed_cannot_be_retried(recipient, sender, platform_admin):
    notice = send(recipient, sender, channels=("email",))

    with pytest.raises(Conflict):
        notices.retry_deliveries([email_of(notice)], actor=platform_admin)

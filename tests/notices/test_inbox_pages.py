"""The inbox pages: sign-in required, one's own notices only, opening marks read, the unread count."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.notices.conftest import SAMPLE
from tongban.notices import services as notices
from tongban.notices.models import Notice

pytestmark = pytest.mark.django_db


def signed_in(account) -> Client:
    client = Client()
    client.force_login(account)
    return client


def two_notices(recipient, sender) -> list[Notice]:
    return [
        notices.send_notice(recipient, "case.accepted", SAMPLE, actor=sender, link="/me/licences/"),
        notices.send_notice(recipient, "case.approved", SAMPLE, actor=sender),
    ]


def test_the_inbox_requires_sign_in(client, recipient, sender):
    first, _second = two_notices(recipient, sender)

    for url in (reverse("notices:inbox"), reverse("notices:notice", args=[first.pk]), reverse("notices:contact")):
        response = client.get(url)
        assert response.status_code == 302 and reverse("identity:sign_in") in response["Location"]
    assert client.post(reverse("notices:read_all")).status_code == 302
    first.refresh_from_db()
    assert first.read_at is None


def test_a_citizen_sees_their_notices_and_the_unread_count_in_the_header(recipient, sender, other_citizen):
    # given two notices for me and one for someone else
    two_notices(recipient, sender)
    notices.send_notice(other_citizen, "licence.issued", {"licence_name": "结婚证", "issuer": "民政局"}, actor=sender)

    page = signed_in(recipient).get(reverse("notices:inbox"))

    content = page.content.decode()
    assert page.status_code == 200
    assert "Your application has been accepted" not in content  # rendered in my language, Chinese
    assert "您的申请已受理（330100-2026-000123）" in content and "您的申请已办结" in content
    assert "结婚证" not in content
    assert '<span class="badge">2</span>' in content


def test_opening_a_notice_marks_it_read_and_lowers_the_count(recipient, sender):
    first, _second = two_notices(recipient, sender)
    client = signed_in(recipient)

    page = client.get(reverse("notices:notice", args=[first.pk]))

    content = page.content.decode()
    assert page.status_code == 200 and "承诺在 2026-12-18 前办结" in content
    assert 'href="/me/licences/"' in content
    assert '<span class="badge">1</span>' in content
    first.refresh_from_db()
    opened_at = first.read_at
    assert opened_at is not None
    # opening it again changes nothing
    client.get(reverse("notices:notice", args=[first.pk]))
    first.refresh_from_db()
    assert first.read_at == opened_at


def test_another_citizen_cannot_see_or_open_my_notice(recipient, sender, other_citizen):
    first, _second = two_notices(recipient, sender)
    client = signed_in(other_citizen)

    assert client.get(reverse("notices:notice", args=[first.pk])).status_code == 404
    listing = client.get(reverse("notices:inbox")).content.decode()

    assert "您的申请已受理" not in listing and 'class="badge"' not in listing
    first.refresh_from_db()
    assert first.read_at is None
    assert list(notices.inbox(other_citizen)) == [] and notices.unread_count(other_citizen) == 0


def test_mark_all_read_clears_only_my_unread_notices(recipient, sender, other_citizen):
    two_notices(recipient, sender)
    theirs = notices.send_notice(other_citizen, "case.approved", SAMPLE, actor=sender)

    response = signed_in(recipient).post(reverse("notices:read_all"), follow=True)

    assert response.status_code == 200 and 'class="badge"' not in response.content.decode()
    assert not Notice.objects.filter(recipient=recipient, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_header_counts_in_one_query_and_stops_at_99_plus(recipient, system, django_assert_num_queries):
    for _ in range(100):
        notices.send_notice(recipient, "case.approved", SAMPLE, actor=system, channels=("inbox",))
    client = signed_in(recipient)
    client.get(reverse("notices:contact"))  # warm the session

    with django_assert_num_queries(4):  # session, account, contact details, the unread count
        content = client.get(reverse("notices:contact")).content.decode()

    assert '<span class="badge">99+</span>' in content


def test_an_officer_reads_notices_in_the_workbench_frame(tax_data, system):
    notices.send_notice(tax_data, "rating.rectification_due", SAMPLE, actor=system, channels=("inbox",))

    content = signed_in(tax_data).get(reverse("notices:inbox")).content.decode()

    assert "差评整改提醒" in content and reverse("workbench:home") in content


def test_a_citizen_sets_their_mobile_number_and_language(recipient):
    client = signed_in(recipient)

    refused = client.post(reverse("notices:contact"), {"phone": "12345", "language": "en"})
    saved = client.post(reverse("notices:contact"), {"phone": "139 0000 1111", "language": "en"})

    assert refused.status_code == 200 and "请输入手机号码" in refused.content.decode()
    assert saved.status_code == 302
    contact = notices.contact_of(recipient)
    assert (contact.phone, contact.language) == ("13900001111", "en")

"""The admin shows notices and the outbox read-only; "Retry now" goes through the service."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory

from tests.notices.conftest import SAMPLE
from tongban.identity.models import Account
from tongban.kernel.actors import SystemActor
from tongban.kernel.models import AuditRecord
from tongban.notices import services as notices
from tongban.notices.models import Contact, Delivery, Notice

pytestmark = pytest.mark.django_db


def admin_client(account) -> Client:
    client = Client()
    client.force_login(account)
    session = client.session
    session["second_factor"] = True
    session.save()
    return client


@pytest.mark.parametrize("model", [Notice, Delivery])
def test_the_admin_cannot_write_notices_or_deliveries(model):
    request = RequestFactory().get("/")
    request.user = Account(is_superuser=True, is_staff=True, is_active=True)
    model_admin = admin.site._registry[model]

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert Contact not in admin.site._registry  # mobile numbers are not shown to operators


def failed_delivery(recipient, sender, settings) -> Delivery:
    settings.NOTICES_MAX_ATTEMPTS = 1
    notice = notices.send_notice(recipient, "case.approved", SAMPLE, actor=sender, channels=("email",))
    notices.deliver_due(actor=SystemActor("tests"))
    return notice.deliveries.get(status="failed")


def test_a_platform_administrator_retries_failed_deliveries_from_the_admin(recipient, sender, platform_admin,
                                                                           smtp_down, settings):
    delivery = failed_delivery(recipient, sender, settings)
    client = admin_client(platform_admin)

    listing = client.get("/admin/notices/delivery/?status__exact=failed")
    response = client.post("/admin/notices/delivery/", {"action": "retry_now", "_selected_action": [delivery.pk]})

    assert listing.status_code == 200 and "Retry now" in listing.content.decode()
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert AuditRecord.objects.get(action="notices.delivery.retried").actor == platform_admin.audit_name


def test_an_officer_without_the_permission_sees_no_outbox(recipient, sender, tax_data, settings, smtp_down):
    failed_delivery(recipient, sender, settings)
    Account.objects.filter(pk=tax_data.pk).update(is_staff=True)

    response = admin_client(Account.objects.get(pk=tax_data.pk)).get("/admin/notices/delivery/")

    assert response.status_code == 403

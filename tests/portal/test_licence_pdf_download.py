"""Downloading a licence as a signed PDF from the wallet; its QR code's page; outsiders get nothing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.catalog.fixtures import PASSWORD, make_person
from tongban.credentials import services as credentials
from tongban.credentials.models import Share
from tongban.identity import services as identity
from tongban.kernel.models import AuditRecord

pytestmark = pytest.mark.django_db


def test_the_holder_downloads_the_signed_pdf_from_the_licence_page(holder):
    # given
    browser, licence, _officer = holder
    page = browser.get(f"/me/licences/{licence.pk}/").content.decode()
    assert f'href="/me/licences/{licence.pk}/pdf/"' in page
    assert "下载 PDF" in page
    # when
    response = browser.get(f"/me/licences/{licence.pk}/pdf/")
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="marriage-certificate-{licence.pk}.pdf"'
    assert response["Cache-Control"] == "no-store"
    assert response.content.startswith(b"%PDF-") and b"/ETSI.CAdES.detached" in response.content


def test_the_pdfs_qr_code_is_listed_with_the_holders_links_and_opens_the_verdict(holder):
    # given
    browser, licence, _officer = holder
    document = browser.get(f"/me/licences/{licence.pk}/pdf/").content
    share = Share.objects.get(licence=licence, kind=Share.Kind.DOCUMENT)
    url = credentials.share_url(share.token)
    assert url.encode() in document
    # when the holder looks at their links
    page = browser.get(f"/me/licences/{licence.pk}/").content.decode()
    # then the PDF's QR code is one of them, and may be withdrawn
    assert "PDF 上的二维码" in page and f"/v/{share.token}/" in page
    assert f"/me/licences/{licence.pk}/shares/{share.pk}/withdraw/" in page
    # and whoever scans it sees the verdict and everything the PDF prints
    shown = Client().get(reverse("portal:shared_licence", args=[share.token]))
    body = shown.content.decode()
    assert shown.status_code == 200 and shown["Cache-Control"] == "no-store"
    assert "有效" in body and "张丽" in body and "J330106-2026-000123" in body
    assert "PDF 上的二维码有效期至" in body


def test_the_qr_codes_address_is_the_portals_public_verification_page(married_holder):
    account, licence, _officer = married_holder
    credentials.licence_pdf(licence, actor=account)
    token = Share.objects.get(licence=licence).token
    assert credentials.share_url(token) == (settings.PUBLIC_BASE_URL.rstrip("/")
                                            + reverse("portal:shared_licence", args=[token]))


def test_a_withdrawn_qr_code_shows_nothing_and_the_next_download_gets_a_new_one(holder):
    browser, licence, _officer = holder
    browser.get(f"/me/licences/{licence.pk}/pdf/")
    first = Share.objects.get(licence=licence)
    browser.post(f"/me/licences/{licence.pk}/shares/{first.pk}/withdraw/")
    assert Client().get(f"/v/{first.token}/").status_code == 410
    browser.get(f"/me/licences/{licence.pk}/pdf/")
    second = Share.objects.get(licence=licence, withdrawn_at__isnull=True)
    assert second.kind == Share.Kind.DOCUMENT and second.token != first.token


def test_someone_else_gets_404_and_nothing_is_made(holder):
    _browser, licence, _officer = holder
    stranger_person = make_person(name="李四")
    stranger = identity.register_citizen(username="li", password=PASSWORD, name=stranger_person.name,
                                         id_number=stranger_person.id_number)
    other = Client()
    other.force_login(stranger)
    audits = AuditRecord.objects.count()
    assert other.get(f"/me/licences/{licence.pk}/pdf/").status_code == 404
    assert not Share.objects.exists() and AuditRecord.objects.count() == audits
    anonymous = Client().get(f"/me/licences/{licence.pk}/pdf/")
    assert anonymous.status_code == 302 and reverse("identity:sign_in") in anonymous["Location"]


def test_a_revoked_licence_offers_no_pdf_and_its_download_says_why(holder):
    browser, licence, officer = holder
    credentials.revoke_licence(licence, actor=officer, reason="Divorce registered")
    page = browser.get(f"/me/licences/{licence.pk}/").content.decode()
    assert f"/me/licences/{licence.pk}/pdf/" not in page
    response = browser.get(f"/me/licences/{licence.pk}/pdf/", follow=True)
    assert response.redirect_chain[-1][0] == f"/me/licences/{licence.pk}/"
    assert "已撤销的证照不能下载" in response.content.decode()
    assert not Share.objects.exists()

"""A licence as a signed PDF: validated independently (pyHanko, poppler's pdfsig), readable, its QR code scanned (zbar).

The validators trust the platform's root CA and nothing else, as a relying
party would; a changed byte must make both refuse the signature.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from tests.catalog.fixtures import PASSWORD, make_officer, make_person
from tests.credentials.conftest import PLATFORM
from tongban.credentials import services as credentials
from tongban.credentials.models import Licence, SealKey, Share
from tongban.identity import services as identity
from tongban.identity.models import Role
from tongban.kernel.models import AuditRecord, Department
from tongban.kernel.problems import Conflict, PermissionDenied

pytestmark = pytest.mark.django_db

POPPLER = ("pdfsig", "pdftotext", "pdftoppm", "pdffonts", "certutil", "zbarimg")


@pytest.fixture(scope="module", autouse=True)
def _poppler():
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    assert not missing, f"install poppler-utils, libnss3-tools and zbar-tools (scripts/system-deps.sh): {missing} missing"


@pytest.fixture
def ca_pem() -> str:
    return credentials.active_authority().certificate_pem


def pyhanko_verdict(document: bytes, ca_pem: str):
    """Validate the PDF's one signature with pyHanko, trusting the platform CA only, fetching nothing."""
    reader = PdfFileReader(BytesIO(document))
    [signature] = reader.embedded_signatures
    context = ValidationContext(trust_roots=list(load_certs_from_pemder_data(ca_pem.encode())),
                                allow_fetching=False)
    return validate_pdf_signature(signature, context)


def nss_database(directory: Path, ca_pem: str | None) -> str:
    """Make an NSS database in ``directory`` that trusts ``ca_pem`` (or nothing); return its pdfsig name."""
    directory.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{directory}", "--empty-password"], check=True,
                   capture_output=True)
    if ca_pem is not None:
        (directory / "ca.pem").write_text(ca_pem)
        # Trusted to certify signers of documents (NSS's e-mail slot, which poppler checks); "C,," would
        # trust the CA for TLS servers only, and pdfsig says "Certificate issuer isn't Trusted".
        subprocess.run(["certutil", "-A", "-d", f"sql:{directory}", "-n", "tongban-ca", "-t", ",C,",
                        "-i", str(directory / "ca.pem")], check=True, capture_output=True)
    return f"sql:{directory}"


def pdfsig(document: bytes, nss: str, tmp_path: Path) -> str:
    path = tmp_path / "licence.pdf"
    path.write_bytes(document)
    result = subprocess.run(["pdfsig", "-nssdir", nss, str(path)], capture_output=True, text=True)
    return result.stdout + result.stderr


def pdf_text(document: bytes, tmp_path: Path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(document)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_the_holder_gets_a_pdf_signed_by_the_issuers_seal_that_pyhanko_trusts(married_holder, ca_pem):
    # given
    account, licence, _officer = married_holder
    # when
    document = credentials.licence_pdf(licence, actor=account)
    # then
    assert document.startswith(b"%PDF-")
    verdict = pyhanko_verdict(document, ca_pem)
    assert verdict.intact and verdict.valid and verdict.trusted
    assert verdict.bottom_line
    seal_key = SealKey.objects.get(seal__department=licence.issuer, use=SealKey.Use.PDF, retired_at__isnull=True)
    assert f"{verdict.signing_cert.serial_number:x}" == seal_key.serial
    assert licence.issuer.name in verdict.signing_cert.subject.human_friendly


def test_pdfsig_validates_the_signature_trusting_only_the_platform_ca(married_holder, ca_pem, tmp_path):
    account, licence, _officer = married_holder
    document = credentials.licence_pdf(licence, actor=account)

    trusted = pdfsig(document, nss_database(tmp_path / "trusting", ca_pem), tmp_path)
    assert "Signature is Valid." in trusted
    assert "Certificate is Trusted." in trusted
    assert licence.issuer.name in trusted  # the signer's distinguished name

    untrusting = pdfsig(document, nss_database(tmp_path / "empty", None), tmp_path)
    assert "Signature is Valid." in untrusting  # the bytes are intact ...
    assert "Certificate is Trusted." not in untrusting  # ... but nothing vouches for the signer


@pytest.mark.parametrize("where", ["page content", "document information"])
def test_a_changed_byte_makes_both_validators_refuse(married_holder, ca_pem, tmp_path, where):
    account, licence, _officer = married_holder
    document = bytearray(credentials.licence_pdf(licence, actor=account))
    if where == "document information":
        # The licence id in the document's metadata: a forger's change of one character.
        position = document.index(f"urn:uuid:{licence.id}".encode()) + len("urn:uuid:")
        document[position] = ord("0") if document[position] != ord("0") else ord("1")
    else:
        # A byte inside the page's (compressed) content stream: what draws the text.
        contents = re.search(rb"/Contents (\d+) 0 R", document).group(1)
        position = document.index(b"stream", document.index(b"\n" + contents + b" 0 obj")) + 40
        document[position] ^= 0x01
    signed_ranges_end = int(bytes(document).split(b"/ByteRange [")[1].split(b"]")[0].split()[1])
    assert position < signed_ranges_end  # inside the signed part

    verdict = pyhanko_verdict(bytes(document), ca_pem)
    assert not verdict.intact and not verdict.bottom_line
    report = pdfsig(bytes(document), nss_database(tmp_path / "nss", ca_pem), tmp_path)
    assert "Signature is Valid." not in report
    assert "Signature is Invalid" in report or "Digest Mismatch" in report


def test_the_page_prints_the_fields_in_order_with_titles_issuer_dates_and_id(married_holder, tmp_path):
    account, licence, _officer = married_holder
    text = pdf_text(credentials.licence_pdf(licence, actor=account), tmp_path)
    for expected in ("结婚证", "Marriage certificate", "结婚证字号", "Certificate number", "J330106-2026-000123",
                     "王小明", "张丽", licence.holder_person.id_number, "登记日期", "2026-05-20",
                     licence.issuer.name, "长期", str(licence.id), timezone.localdate(licence.issued_at).isoformat()):
        assert expected in text, expected
    # In the type's field order.
    positions = [text.index(title) for title in ("结婚证字号", "持证人", "身份证件号", "配偶姓名", "配偶身份证件号",
                                                "登记日期")]
    assert positions == sorted(positions)


def test_every_font_is_embedded_so_the_page_prints_the_same_anywhere(married_holder, tmp_path):
    account, licence, _officer = married_holder
    path = tmp_path / "fonts.pdf"
    path.write_bytes(credentials.licence_pdf(licence, actor=account))
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    fonts = [line.split() for line in listing.splitlines()[2:]]
    assert fonts, listing
    # name, type…, encoding, then "emb sub uni" and the object id
    assert all(columns[-5:-2] == ["yes", "yes", "yes"] for columns in fonts), listing


def scan_qr_codes(document: bytes, tmp_path: Path) -> list[str]:
    """Print the first page at 150 dpi and read its QR codes with zbar, as a phone would."""
    (tmp_path / "scan.pdf").write_bytes(document)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", str(tmp_path / "scan.pdf"),
                    str(tmp_path / "page")], check=True)
    result = subprocess.run(["zbarimg", "--quiet", "--raw", str(tmp_path / "page.png")], capture_output=True,
                            text=True)
    return result.stdout.split()


def test_the_qr_code_and_its_link_open_the_document_share_which_shows_everything_printed(married_holder, tmp_path):
    # given
    account, licence, _officer = married_holder
    # when
    document = credentials.licence_pdf(licence, actor=account)
    # then: one document share, whose page the printed QR code and the PDF's link open
    share = Share.objects.get(licence=licence)
    assert share.kind == Share.Kind.DOCUMENT
    url = credentials.share_url(share.token)
    assert scan_qr_codes(document, tmp_path) == [url]
    assert f"/URI ({url})".encode() in document
    shown = credentials.open_share(share.token)
    assert shown.outcome == "valid"
    assert {field.name for field in shown.fields} == set(licence.licence_type.schema["properties"])


def test_later_downloads_reuse_the_qr_code_until_the_holder_withdraws_it(married_holder):
    account, licence, officer = married_holder
    credentials.licence_pdf(licence, actor=account)
    credentials.licence_pdf(licence, actor=officer)
    first = Share.objects.get(licence=licence, kind=Share.Kind.DOCUMENT)
    assert first.expires_at - first.created_at == credentials.DOCUMENT_SHARE_LIMIT  # valid until revoked: capped

    credentials.withdraw_share(first, actor=account)
    document = credentials.licence_pdf(licence, actor=account)
    second = Share.objects.get(licence=licence, kind=Share.Kind.DOCUMENT, withdrawn_at__isnull=True)
    assert second.pk != first.pk and second.token != first.token
    assert credentials.share_url(second.token).encode() in document
    assert credentials.open_share(first.token).outcome == "share_ended"


def test_the_qr_code_of_a_licence_with_a_validity_ends_with_it(sealed, org):
    # given a social-security card, valid ten years from its issue
    hr = sealed(Department.Kind.HUMAN_RESOURCES)
    officer = make_officer(org, "hr-reviewer", kind=Department.Kind.HUMAN_RESOURCES, roles=[Role.REVIEWER])
    person = make_person(name="李雷")
    account = identity.register_citizen(username="lilei", password=PASSWORD, name=person.name,
                                        id_number=person.id_number)
    card = credentials.issue_licence(
        actor=officer, licence_type="social-security-card", holder=person, issuer=hr,
        valid_from=timezone.now() - timedelta(days=365 * 9),
        fields={"card_number": "A12345678", "name": person.name, "id_number": person.id_number,
                "issued_on": "2017-01-01"},
    )
    # when
    credentials.licence_pdf(card, actor=account)
    # then
    assert Share.objects.get(licence=card).expires_at == card.valid_until


def test_every_download_is_audited_once(married_holder):
    account, licence, _officer = married_holder
    before = AuditRecord.objects.count()
    credentials.licence_pdf(licence, actor=account)
    credentials.licence_pdf(licence, actor=account)
    records = list(AuditRecord.objects.order_by("id")[before:])
    assert [record.action for record in records] == ["credentials.licence.pdf_downloaded"] * 2
    assert [record.details["share_created"] for record in records] == [True, False]


def test_the_issuing_officer_and_the_platform_may_render_but_an_outsider_may_not(married_holder, org):
    _account, licence, officer = married_holder
    assert credentials.licence_pdf(licence, actor=officer).startswith(b"%PDF-")
    assert credentials.licence_pdf(licence, actor=PLATFORM).startswith(b"%PDF-")
    stranger_person = make_person(name="李四")
    stranger = identity.register_citizen(username="li", password=PASSWORD, name=stranger_person.name,
                                         id_number=stranger_person.id_number)
    other_officer = make_officer(org, "market-reviewer", kind=Department.Kind.MARKET_REGULATION,
                                 roles=[Role.REVIEWER])
    shares, audits = Share.objects.count(), AuditRecord.objects.count()
    for outsider in (stranger, other_officer):
        with pytest.raises(PermissionDenied):
            credentials.licence_pdf(licence, actor=outsider)
    assert (Share.objects.count(), AuditRecord.objects.count()) == (shares, audits)


def test_a_revoked_or_expired_licence_is_not_rendered_and_nothing_changes(married_holder):
    account, licence, officer = married_holder
    Licence.objects.filter(pk=licence.pk).update(valid_until=timezone.now() - timedelta(days=1))
    licence.refresh_from_db()
    with pytest.raises(Conflict):
        credentials.licence_pdf(licence, actor=account)
    Licence.objects.filter(pk=licence.pk).update(valid_until=None)
    credentials.revoke_licence(licence, actor=officer, reason="Divorce registered")
    licence.refresh_from_db()
    audits = AuditRecord.objects.count()
    with pytest.raises(Conflict):
        credentials.licence_pdf(licence, actor=account)
    assert not Share.objects.exists() and AuditRecord.objects.count() == audits


@pytest.mark.parametrize(("font", "message"), [("missing", "install Debian's fonts-wqy-microhei"),
                                               ("not a font", "cannot be used")])
def test_a_missing_or_broken_font_says_so_and_changes_nothing(married_holder, settings, tmp_path, font, message):
    account, licence, _officer = married_holder
    path = tmp_path / "font.ttc"
    if font == "not a font":
        path.write_bytes(b"not a TrueType font")
    settings.LICENCE_PDF_FONT = str(path)
    audits = AuditRecord.objects.count()
    with pytest.raises(ImproperlyConfigured, match=message):
        credentials.licence_pdf(licence, actor=account)
    assert not Share.objects.exists() and AuditRecord.objects.count() == audits


def test_the_signature_comes_from_the_crypto_provider(married_holder, ca_pem, monkeypatch):
    # given a provider that records what it signs
    account, licence, _officer = married_holder
    from tongban.kernel import crypto

    provider = crypto.get_crypto_provider()
    calls = []
    original = provider.sign_with

    def recording(handle, message, *, purpose):
        calls.append((handle, purpose))
        return original(handle, message, purpose=purpose)

    monkeypatch.setattr(provider, "sign_with", recording)
    # when
    document = credentials.licence_pdf(licence, actor=account)
    # then: one signature by the seal's PDF key handle, and the result validates
    key = SealKey.objects.get(seal__department=licence.issuer, use=SealKey.Use.PDF, retired_at__isnull=True)
    assert calls == [(key.key_handle, credentials.SEAL_PURPOSE)]
    assert pyhanko_verdict(document, ca_pem).bottom_line

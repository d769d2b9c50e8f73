"""Licence PDFs: the page drawn with reportlab, then signed (PAdES) with the issuer's seal key.

``render`` draws a licence as a certificate: its title in Chinese and English,
the fields in the type's order with Chinese titles (English beneath), the
issuing department, the dates, the licence's id, the department's seal and a
QR code that opens the public verification page. Chinese text is drawn with an
embedded CJK TrueType font (``settings.LICENCE_PDF_FONT``).

``sign`` adds a PAdES baseline B-B signature with pyHanko. Its raw signature
comes from the ``CryptoProvider`` (``sign_with`` on the seal key's handle):
pyHanko is given the certificates only, never the private key.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from html import escape
from io import BytesIO
from pathlib import Path
from typing import Any

import segno
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    NextPageTemplate,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

from tongban.credentials import seals
from tongban.kernel.crypto import CryptoProvider

# Colours of the page: ink, a muted red for the frame and title, a pale gold for rules and the background pattern.
INK = colors.HexColor("#1d1d1f")
MUTED = colors.HexColor("#5f5f66")
FRAME = colors.HexColor("#8e1b14")
RULE = colors.HexColor("#cdb98f")
PAPER = colors.HexColor("#fffcf4")
PATTERN = colors.HexColor("#f1e6cc")
SEAL_RED = colors.HexColor(seals.SEAL_RED)
# A character the font must draw, to tell a CJK font from one that would print empty boxes.
CJK_PROBE = "证"
# The page's frame, and the margin between the frame and the text.
BORDER = 26
MARGIN = 58
TOP = 50
# The frame of the text ends above the footer's note and the licence id.
BOTTOM = 76
SEAL_DIAMETER = 122
# The issuer and dates (at the certificate's foot, on the right), one line each.
ISSUER_WIDTH = 240
ISSUER_LABEL_WIDTH = 68
LINE_PITCH = 28
# What the first page keeps clear of fields: the title; the foot (portrait) or the right side (landscape).
TITLE_HEIGHT = 96
CLOSING_HEIGHT = 178
SIDE_WIDTH = 250
QR_SIZE = 96
SIGNATURE_FIELD = "IssuerSeal"


@dataclass(frozen=True)
class PrintedField:
    """One field as the PDF prints it: Chinese title, English title, value."""

    title: str
    title_en: str
    value: str


@dataclass(frozen=True)
class LicenceDocument:
    """Everything a licence PDF shows.

    ``valid_until`` None prints as 长期 (valid until revoked); ``verify_url``
    is what the QR code and its link open.
    """

    title: str
    title_en: str
    fields: tuple[PrintedField, ...]
    issuer_name: str
    seal_name: str
    reference: str
    licence_id: str
    issued_on: date
    valid_from: date
    valid_until: date | None
    verify_url: str
    landscape: bool = False


def font_name() -> str:
    """Register the configured CJK font with reportlab (once per file) and return its name.

    Raise ImproperlyConfigured if the file is missing, is not a TrueType font
    (or collection with that index), or cannot draw Chinese.
    """
    path, index = str(settings.LICENCE_PDF_FONT), int(settings.LICENCE_PDF_FONT_INDEX)
    if not Path(path).is_file():
        raise ImproperlyConfigured(
            f"The licence PDF font {path} is missing: install Debian's fonts-wqy-microhei, or set "
            "TONGBAN_LICENCE_PDF_FONT to a TrueType font (.ttf/.ttc) with Chinese glyphs."
        )
    name = "TongbanCJK-" + hashlib.sha256(f"{path}#{index}".encode()).hexdigest()[:12]
    if name in pdfmetrics.getRegisteredFontNames():
        return name
    try:
        font = TTFont(name, path, subfontIndex=index)
    except (TTFError, OSError, IndexError) as error:
        raise ImproperlyConfigured(
            f"The licence PDF font {path} (index {index}) cannot be used: {error}"
        ) from error
    if ord(CJK_PROBE) not in font.face.charToGlyph:
        raise ImproperlyConfigured(f"The licence PDF font {path} has no Chinese glyphs; choose a CJK font.")
    pdfmetrics.registerFont(font)
    return name


# -- drawing --------------------------------------------------------------------------------------


def draw_seal(canvas: Canvas, name: str, *, font: str, x: float, y: float, diameter: float) -> None:
    """Draw the seal of ``seals.seal_image`` centred at (x, y): red ring, ``name`` on the rim, star, purpose."""
    shape = seals.seal_geometry(name)
    scale = diameter / 200

    def point(svg_x: float, svg_y: float) -> tuple[float, float]:
        # SVG's y grows downwards; the page's upwards.
        return x + (svg_x - shape.centre) * scale, y - (svg_y - shape.centre) * scale

    canvas.saveState()
    # Multiply, as ink does: text under the seal stays readable.
    canvas.setBlendMode("Multiply")
    canvas.setFillColor(SEAL_RED, alpha=0.92)
    canvas.setStrokeColor(SEAL_RED, alpha=0.92)
    canvas.setLineWidth(shape.ring_width * scale)
    canvas.circle(x, y, shape.radius * scale, stroke=1, fill=0)
    star = canvas.beginPath()
    for number, (svg_x, svg_y) in enumerate(shape.star):
        px, py = point(svg_x, svg_y)
        if number == 0:
            star.moveTo(px, py)
        else:
            star.lineTo(px, py)
    star.close()
    canvas.drawPath(star, stroke=0, fill=1)
    # The name runs clockwise along the rim, centred on the top, each character upright to the centre.
    size = shape.name_size * scale
    radius = shape.text_radius * scale
    spacing = shape.name_spacing * scale
    advances = [pdfmetrics.stringWidth(char, font, size) for char in name]
    angle = math.pi / 2 + (sum(advances) + spacing * (len(name) - 1)) / radius / 2
    canvas.setLineWidth(0.35 * scale * 2)
    for char, advance in zip(name, advances, strict=True):
        middle = angle - advance / radius / 2
        angle -= (advance + spacing) / radius
        canvas.saveState()
        canvas.translate(x + radius * math.cos(middle), y + radius * math.sin(middle))
        canvas.rotate(math.degrees(middle) - 90)
        text = canvas.beginText()
        text.setFont(font, size)
        # Fill and stroke: the seal's characters are bold.
        text.setTextRenderMode(2)
        text.setTextOrigin(-advance / 2, 0)
        text.textOut(char)
        canvas.drawText(text)
        canvas.restoreState()
    _, purpose_y = point(shape.centre, shape.purpose_y)
    canvas.setFont(font, shape.purpose_size * scale)
    canvas.drawCentredString(x, purpose_y, seals.SEAL_PURPOSE)
    canvas.restoreState()


def draw_qr(canvas: Canvas, url: str, *, x: float, y: float, size: float) -> None:
    """Draw a QR code of ``url`` (vector modules, white quiet zone) with its lower left at (x, y), and link it."""
    code = segno.make(url, error="m", micro=False)
    matrix = code.matrix
    quiet = 2
    count = len(matrix) + 2 * quiet
    module = size / count
    canvas.saveState()
    canvas.setFillColor(colors.white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    for row_number, row in enumerate(matrix):
        top = y + size - (row_number + quiet + 1) * module
        column = 0
        # One rectangle per run of dark modules in a row.
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            canvas.rect(x + (start + quiet) * module, top, (column - start) * module, module, stroke=0, fill=1)
    canvas.restoreState()
    canvas.linkURL(url, (x, y, x + size, y + size), relative=1, thickness=0)


def _date(day: date) -> str:
    return day.isoformat()


def _draw_title(canvas: Canvas, document: LicenceDocument, font: str, *, width: float, top: float) -> None:
    """Draw the licence type's name, large and spaced, its English name beneath and a double rule."""
    size = 28.0
    # Short titles are spaced out as printed certificates are; long ones shrink to fit.
    spacing = size * (0.5 if len(document.title) <= 5 else 0.12)

    def title_width() -> float:
        return float(pdfmetrics.stringWidth(document.title, font, size)) + spacing * max(0, len(document.title) - 1)

    while size > 14 and title_width() > width - 2 * MARGIN:
        size -= 1
        spacing = size * 0.08
    canvas.saveState()
    text = canvas.beginText()
    text.setFont(font, size)
    text.setCharSpace(spacing)
    text.setFillColor(FRAME)
    text.setStrokeColor(FRAME)
    # Fill and stroke: the font has no bold face.
    text.setTextRenderMode(2)
    canvas.setLineWidth(0.6)
    text.setTextOrigin((width - title_width()) / 2, top - 14 - size)
    text.textOut(document.title)
    canvas.drawText(text)
    canvas.restoreState()
    canvas.saveState()
    if document.title_en:
        canvas.setFillColor(MUTED)
        canvas.setFont(font, 11.5)
        canvas.drawCentredString(width / 2, top - 14 - size - 20, document.title_en)
    rule = top - TITLE_HEIGHT + 10
    canvas.setStrokeColor(FRAME)
    canvas.setLineWidth(1.2)
    canvas.line(MARGIN, rule + 3, width - MARGIN, rule + 3)
    canvas.setLineWidth(0.4)
    canvas.line(MARGIN, rule, width - MARGIN, rule)
    canvas.restoreState()


def _draw_verification(canvas: Canvas, document: LicenceDocument, font: str, *, x: float, y: float) -> None:
    """Draw the QR code with its lower left at (x, y), what it is for beside it, and its address beneath."""
    draw_qr(canvas, document.verify_url, x=x, y=y, size=QR_SIZE)
    canvas.saveState()
    left, top = x + QR_SIZE + 12, y + QR_SIZE
    canvas.setFillColor(INK)
    canvas.setFont(font, 9.5)
    canvas.drawString(left, top - 12, "扫码核验")
    canvas.setFillColor(MUTED)
    canvas.setFont(font, 7.5)
    canvas.drawString(left, top - 24, "Scan to verify")
    line_y = top - 44
    for text, size in (("在发证平台核验本证照", 7.5), ("的真伪与当前状态", 7.5),
                       ("Checks on the issuing platform", 6.2), ("that it is genuine and in force", 6.2)):
        canvas.setFont(font, size)
        canvas.drawString(left, line_y, text)
        line_y -= size + 3.5
    canvas.setFont(font, 6.2)
    canvas.drawString(x, y - 12, document.verify_url)
    canvas.restoreState()


def _issuer_lines(document: LicenceDocument) -> list[tuple[str, str, str]]:
    lines = [("发证机关", "Issuing authority", document.issuer_name),
             ("签发日期", "Date of issue", _date(document.issued_on))]
    if document.valid_from != document.issued_on:
        lines.append(("生效日期", "Valid from", _date(document.valid_from)))
    lines.append(("有效期至", "Valid until", _date(document.valid_until) if document.valid_until else "长期"))
    if document.reference:
        lines.append(("业务编号", "Reference", document.reference))
    return lines


def _draw_issuer(canvas: Canvas, document: LicenceDocument, font: str, *, right: float, bottom: float) -> None:
    """Draw issuer and dates (labels, then values; the last line at ``bottom``) and stamp the seal at their right.

    The seal overlaps the end of the department's name, as a department
    stamps over its name (骑字盖章), and leaves the dates clear; its ink
    multiplies, so text under it stays readable.
    """
    lines = _issuer_lines(document)
    left = right - ISSUER_WIDTH
    top = y = bottom + LINE_PITCH * (len(lines) - 1)
    canvas.saveState()
    for title, title_en, value in lines:
        canvas.setFillColor(MUTED)
        canvas.setFont(font, 9)
        canvas.drawString(left, y, title)
        canvas.setFont(font, 6.5)
        canvas.drawString(left, y - 9, title_en)
        canvas.setFillColor(INK)
        size = 11.0
        # A long department name shrinks rather than running off the page.
        while size > 7 and pdfmetrics.stringWidth(value, font, size) > ISSUER_WIDTH - ISSUER_LABEL_WIDTH:
            size -= 0.5
        canvas.setFont(font, size)
        canvas.drawString(left + ISSUER_LABEL_WIDTH, y, value)
        y -= LINE_PITCH
    canvas.restoreState()
    draw_seal(canvas, document.seal_name, font=font, x=right - SEAL_DIAMETER / 2,
              y=(top + bottom) / 2 + 4, diameter=SEAL_DIAMETER)


def _background(canvas: Canvas, width: float, height: float) -> None:
    """Paper colour, a faint guilloche rosette and a double frame."""
    canvas.saveState()
    canvas.setFillColor(PAPER)
    canvas.rect(BORDER, BORDER, width - 2 * BORDER, height - 2 * BORDER, stroke=0, fill=1)
    canvas.setStrokeColor(PATTERN)
    canvas.setLineWidth(0.45)
    centre_x, centre_y = width / 2, height / 2 + 20
    rosette = min(width, height) * 0.27
    for step in range(36):
        turn = math.pi * step / 18
        canvas.circle(centre_x + rosette * 0.42 * math.cos(turn), centre_y + rosette * 0.42 * math.sin(turn),
                      rosette * 0.58, stroke=1, fill=0)
    canvas.setStrokeColor(FRAME)
    canvas.setLineWidth(2.2)
    canvas.rect(BORDER, BORDER, width - 2 * BORDER, height - 2 * BORDER, stroke=1, fill=0)
    canvas.setLineWidth(0.6)
    canvas.rect(BORDER + 5, BORDER + 5, width - 2 * BORDER - 10, height - 2 * BORDER - 10, stroke=1, fill=0)
    canvas.restoreState()


def _footer(canvas: Canvas, document: LicenceDocument, font: str, width: float, page: int) -> None:
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, BOTTOM - 8, width - MARGIN, BOTTOM - 8)
    canvas.setFillColor(MUTED)
    canvas.setFont(font, 7.5)
    canvas.drawString(MARGIN, BOTTOM - 20, "本电子证照由发证机关以电子印章签名（PAdES），可在 PDF 阅读器中校验签名。")
    canvas.setFont(font, 6.5)
    canvas.drawString(MARGIN, BOTTOM - 30, "Signed with the issuing authority's e-seal (PAdES): "
                                           "a PDF reader can check the signature.")
    canvas.setFont(font, 7)
    canvas.drawRightString(width - MARGIN, BOTTOM - 20, f"证照标识 Licence ID  {document.licence_id}")
    if page > 1:
        canvas.drawRightString(width - MARGIN, BOTTOM - 30, f"第 {page} 页 · Page {page}")
    canvas.restoreState()


def _field_rows(fields: Iterable[PrintedField], font: str) -> list[list[Any]]:
    label = ParagraphStyle("label", fontName=font, fontSize=10.5, leading=13, textColor=INK, alignment=TA_LEFT,
                           wordWrap="CJK")
    rows = []
    for field in fields:
        size = 12.0 if len(field.value) <= 60 else 10.0 if len(field.value) <= 300 else 9.0
        value = ParagraphStyle("value", fontName=font, fontSize=size, leading=size * 1.45, textColor=INK,
                               wordWrap="CJK")
        english = (f'<br/><font size="7" color="#5f5f66">{escape(field.title_en)}</font>'
                   if field.title_en else "")
        rows.append([Paragraph(f"{escape(field.title)}{english}", label),
                     Paragraph(escape(field.value).replace("\n", "<br/>"), value)])
    return rows


def _fields_table(document: LicenceDocument, font: str, width: float, height: float) -> Table:
    """Return the fields as a table ``width`` wide, as roomy as ``height`` allows (rows may split onto later pages)."""
    label_width = 150
    for padding in (8, 6, 4, 3):
        table = Table(_field_rows(document.fields, font), colWidths=[label_width, width - label_width],
                      splitInRow=1)
        table.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.5, RULE),
            ("LEFTPADDING", (0, 0), (-1, -1), 6),
            ("RIGHTPADDING", (0, 0), (-1, -1), 6),
            ("TOPPADDING", (0, 0), (-1, -1), padding),
            ("BOTTOMPADDING", (0, 0), (-1, -1), padding),
        ]))
        if table.wrap(width, height)[1] <= height:
            break
    return table


def render(document: LicenceDocument) -> bytes:
    """Return the licence as an unsigned PDF (A4, portrait or landscape as the type's layout says).

    The first page carries the title, the fields, the QR code, the issuer
    and the seal; fields too long for it continue on further pages. Raise
    ImproperlyConfigured if the CJK font cannot be used (see ``font_name``).
    """
    font = font_name()
    page_size = landscape(A4) if document.landscape else A4
    width, height = page_size
    content_width = width - 2 * MARGIN
    fields_top = height - TOP - TITLE_HEIGHT
    no_padding = {"leftPadding": 0, "rightPadding": 0, "topPadding": 0, "bottomPadding": 0}
    # Landscape: fields on the left, the QR code above the issuer and seal on the right (as on a business
    # licence). Portrait: fields above them.
    if document.landscape:
        first_box = (MARGIN, BOTTOM, content_width - SIDE_WIDTH, fields_top - BOTTOM)
    else:
        first_box = (MARGIN, BOTTOM + CLOSING_HEIGHT, content_width, fields_top - BOTTOM - CLOSING_HEIGHT)
    first = Frame(*first_box, id="first", **no_padding)
    later = Frame(MARGIN, BOTTOM, content_width, height - TOP - BOTTOM - 30, id="later", **no_padding)

    def first_page(canvas: Canvas, doc: BaseDocTemplate) -> None:
        _background(canvas, width, height)
        _draw_title(canvas, document, font, width=width, top=height - TOP)
        if document.landscape:
            _draw_verification(canvas, document, font, x=width - MARGIN - SIDE_WIDTH + 30,
                               y=fields_top - 10 - QR_SIZE)
        else:
            _draw_verification(canvas, document, font, x=MARGIN, y=BOTTOM + 34)
        _draw_issuer(canvas, document, font, right=width - MARGIN, bottom=BOTTOM + 38)
        _footer(canvas, document, font, width, doc.page)

    def later_page(canvas: Canvas, doc: BaseDocTemplate) -> None:
        _background(canvas, width, height)
        canvas.saveState()
        canvas.setFillColor(FRAME)
        canvas.setFont(font, 11)
        canvas.drawCentredString(width / 2, height - TOP - 14,
                                 f"{document.title}（续） {document.title_en} (continued)".strip())
        canvas.restoreState()
        _footer(canvas, document, font, width, doc.page)

    buffer = BytesIO()
    template = BaseDocTemplate(
        buffer, pagesize=page_size, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=TOP, bottomMargin=BOTTOM,
        title=f"{document.title} {document.title_en}".strip(), author=document.issuer_name,
        subject=f"urn:uuid:{document.licence_id}", creator="Tongban", lang="zh-CN",
        # Every page starts in the embedded font, so the file names no font it does not embed.
        initialFontName=font,
    )
    template.addPageTemplates([PageTemplate(id="first", frames=[first], onPage=first_page),
                               PageTemplate(id="later", frames=[later], onPage=later_page)])
    template.build([NextPageTemplate("later"), _fields_table(document, font, first_box[2], first_box[3])])
    return buffer.getvalue()


# -- signing --------------------------------------------------------------------------------------


class ProviderSigner(signers.Signer):
    """A pyHanko signer whose raw ECDSA signature comes from the CryptoProvider (the key never leaves it).

    ``handle`` is the seal key's provider handle and ``purpose`` the purpose
    it was created for; ``certificate_pem`` the key's certificate and
    ``chain_pem`` the certificates up to the root CA, embedded in the
    signature so that a verifier who trusts the root can build the path.
    """

    def __init__(self, *, provider: CryptoProvider, handle: str, purpose: str, certificate_pem: str,
                 chain_pem: str) -> None:
        certificate = next(iter(load_certs_from_pemder_data(certificate_pem.encode())))
        chain = list(load_certs_from_pemder_data(chain_pem.encode()))
        registry = SimpleCertificateStore.from_certs(chain)  # type: ignore[no-untyped-call]
        super().__init__(signing_cert=certificate, cert_registry=registry, embed_roots=True)
        self._provider, self._handle, self._purpose = provider, handle, purpose

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        # The provider's ES256 signs SHA-256 and nothing else.
        if digest_algorithm.lower() != "sha256":
            raise SigningError(f"the seal key signs SHA-256 digests only, not {digest_algorithm}")
        if dry_run:
            # The longest DER ECDSA P-256 signature, to size the placeholder.
            return bytes(72)
        return self._provider.sign_with(self._handle, data, purpose=self._purpose)


def sign(pdf: bytes, *, signer: signers.Signer, reason: str) -> bytes:
    """Return ``pdf`` with a PAdES B-B certification signature by ``signer`` (signing time: now).

    The document is certified with no changes allowed after signing; the
    signature field is invisible (the seal is drawn on the page).
    """
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        certify=True, docmdp_permissions=fields.MDPPerm.NO_CHANGES, reason=reason,
    )
    output = signers.PdfSigner(metadata, signer=signer).sign_pdf(writer)
    return bytes(output.getbuffer())

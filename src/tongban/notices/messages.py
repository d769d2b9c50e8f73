"""Message templates: what each kind of notice says, in each language.

A template is a file per language, ``templates/notices/messages/<code>.<language>.txt``,
in Django template syntax with three blocks: ``subject`` (one line), ``body``
(the inbox text and the email's text part) and ``sms`` (the short form). They
ship with the code, so that a change of wording is reviewed, translated and
tested like any other (ADR 0015). ``MESSAGE_TEMPLATES`` lists every code with
the context it needs; a test renders each in each language.

The text is rendered without autoescaping (it is plain text); the email's HTML
part is the text placed in ``notices/email/message.html``, which autoescapes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.template.loader_tags import BlockNode
from django.utils import translation

BLOCKS = ("subject", "body", "sms")


@dataclass(frozen=True)
class MessageTemplate:
    """A kind of notice: its code, what it is for, and the context keys it needs."""

    code: str
    description: str
    required: tuple[str, ...]
    # A context that renders the template, for tests and previews.
    sample: Mapping[str, Any] = field(default_factory=dict)


MESSAGE_TEMPLATES: dict[str, MessageTemplate] = {
    template.code: template
    for template in (
        MessageTemplate(
            "case.accepted", "An application was accepted (受理) and its promised time limit starts.",
            ("case_number", "service_name", "due_date"),
            {"case_number": "330100-2026-000123", "service_name": "个体工商户设立登记", "due_date": "2026-12-18"},
        ),
        MessageTemplate(
            "case.supplement_requested", "The applicant must supply missing material once (一次性告知补正).",
            ("case_number", "service_name", "items", "reason"),
            {"case_number": "330100-2026-000123", "service_name": "个体工商户设立登记",
             "items": ["经营场所使用证明"], "reason": "租赁合同未签字"},
        ),
        MessageTemplate(
            "case.approved", "An application was approved (准予许可).",
            ("case_number", "service_name"),
            {"case_number": "330100-2026-000123", "service_name": "个体工商户设立登记"},
        ),
        MessageTemplate(
            "case.rejected", "An application was decided against (不予许可), with the reason.",
            ("case_number", "service_name", "reason"),
            {"case_number": "330100-2026-000123", "service_name": "个体工商户设立登记",
             "reason": "经营范围涉及前置许可，申请人未取得"},
        ),
        MessageTemplate(
            "case.not_accepted", "An application was not accepted for handling (不予受理), with the reason.",
            ("case_number", "service_name", "reason"),
            {"case_number": "330100-2026-000123", "service_name": "个体工商户设立登记",
             "reason": "该事项不属于本部门职权范围"},
        ),
        MessageTemplate(
            "licence.issued", "An e-licence was issued to the holder (电子证照签发).",
            ("licence_name", "issuer"),
            {"licence_name": "营业执照", "issuer": "杭州市市场监督管理局"},
        ),
        MessageTemplate(
            "rating.rectification_due", "A bad rating (差评) must be rectified and answered by a date.",
            ("case_number", "due_date"),
            {"case_number": "330100-2026-000123", "due_date": "2026-12-18"},
        ),
    )
}


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str
    sms: str


def notice_language(language: str | None) -> str:
    """Return ``language`` if the site offers it, else the site's default language."""
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _template_name(code: str, language: str) -> str:
    return f"notices/messages/{code}.{language}.txt"


def render_message(code: str, context: Mapping[str, Any], *, language: str) -> RenderedMessage:
    """Render the template ``code`` in ``language`` with ``context``; return its subject, body and SMS text.

    Raise KeyError if ``code`` is not a known template. Context values are
    inserted as they are (plain text): escaping is the email layout's job.
    """
    MESSAGE_TEMPLATES[code]
    template = get_template(_template_name(code, language)).template  # type: ignore[attr-defined]
    blocks = {node.name: node for node in template.nodelist.get_nodes_by_type(BlockNode)}
    parts: dict[str, str] = {}
    with translation.override(language):
        render_context = Context(dict(context), autoescape=False)
        with render_context.bind_template(template):
            for name in BLOCKS:
                parts[name] = blocks[name].render(render_context).strip() if name in blocks else ""
    subject = " ".join(parts["subject"].split())
    return RenderedMessage(subject=subject, body=parts["body"], sms=" ".join(parts["sms"].split()) or subject)


def render_email_html(*, subject: str, body: str, link_url: str, language: str) -> str:
    """Return the HTML part of a notice's email: ``body`` (plain text) escaped into the layout."""
    with translation.override(language):
        return render_to_string("notices/email/message.html",
                                {"subject": subject, "body": body, "link_url": link_url, "language": language})


def render_email_text(*, body: str, link_url: str, language: str) -> str:
    """Return the text part of a notice's email: ``body`` and the link, with the footer."""
    with translation.override(language):
        return render_to_string("notices/email/message.txt", {"body": body, "link_url": link_url}).strip() + "\n"

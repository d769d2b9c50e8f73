"""Message templates: every code renders in every language."""

from __future__ import annotations

import pytest
from django.conf import settings

from tongban.notices.messages import (
    MESSAGE_TEMPLATES,
    render_email_html,
    render_email_text,
    render_message,
)

LANGUAGES = [code for code, _name in settings.LANGUAGES]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("code", sorted(MESSAGE_TEMPLATES))
def test_every_template_renders_its_sample_in_every_language(code, language):
    template = MESSAGE_TEMPLATES[code]

    message = render_message(code, template.sample, language=language)

    assert message.subject and message.body and message.sms
    assert "\n" not in message.subject and len(message.subject) <= 200 and len(message.sms) <= 500
    rendered = message.subject + message.body + message.sms
    assert "{" not in rendered and "}" not in rendered
    for value in template.sample.values():
        if isinstance(value, str):
            assert value in message.body or value in message.subject
    assert message.sms.startswith("【通办】" if language == "zh-hans" else "[Tongban]")


def test_values_are_plain_text_in_the_body_and_escaped_in_the_html_part():
    message = render_message("case.approved", {"case_number": "A&B", "service_name": "<b>登记</b>"},
                             language="zh-hans")

    html = render_email_html(subject=message.subject, body=message.body, link_url="", language="zh-hans")
    text = render_email_text(body=message.body, link_url="", language="zh-hans")

    assert "<b>登记</b>" in message.body and "<b>登记</b>" in text
    assert "&lt;b&gt;登记&lt;/b&gt;" in html and "<b>登记" not in html and "A&amp;B" in html


def test_an_unknown_template_is_refused():
    with pytest.raises(KeyError):
        render_message("case.unknown", {}, language="zh-hans")

"""Password validation beyond Django's own validators."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


class ChineseCommonPasswordValidator:
    """Refuse passwords common among Chinese users (pinyin words, dates, keyboard walks).

    Django's own list is English-centred; this one adds what leaked Chinese
    password lists show most often.
    """

    def validate(self, password: str, user: Any = None) -> None:
        if password.lower() in _common_passwords():
            raise ValidationError(_("This password is too common."), code="password_too_common")

    def get_help_text(self) -> str:
        return _("Your password can't be a commonly used password.")

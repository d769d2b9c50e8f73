"""Resident ID numbers (公民身份号码) and unified social credit codes: normalize and check.

Both are checked with python-stdnum (``stdnum.cn.ric``, ``stdnum.cn.uscc``). One
deliberate difference from ``stdnum.cn.ric.validate``: that function also
requires the area code to have existed in the holder's birth year, but an ID
number carries the code of the place where the number was first issued (1985
onwards for most adults), not of the place of birth. ``stdnum`` would refuse,
for instance, every genuine number of a 上城区 resident born before 1983. We
require the area code to be a known division code of any period instead.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import numdb
from stdnum.cn import ric
from stdnum.cn import uscc as uscc_number
from stdnum.exceptions import ValidationError as StdnumError

from tongban.kernel.crypto import get_crypto_provider
from tongban.registries.models import ID_NUMBER_PURPOSE, Person

EARLIEST_BIRTH_YEAR = 1900


def normalize_id_number(value: str) -> str:
    """Return ``value`` without spaces or hyphens, with a lower-case check letter made upper-case."""
    return ric.compact(str(value or "")).replace(" ", "").replace("-", "")


def id_number_index(number: str) -> str:
    """Return the blind index of a normalized ID number (the only way to look one up)."""
    return get_crypto_provider().blind_index(number, purpose=ID_NUMBER_PURPOSE)


@lru_cache(maxsize=4096)
def is_known_area_code(code: str) -> bool:
    """Return True if ``code`` is a county-level division code in stdnum's table, of any period."""
    info = {key for _part, props in numdb.get("cn/loc").info(code) for key in props}
    return "county" in info


def id_number_error(number: str, *, today: date | None = None) -> str | None:
    """Return why the normalized ``number`` is not a valid ID number, or None if it is valid."""
    if len(number) != 18 or not (number[:17].isascii() and number[:17].isdigit()):
        return _("The ID number is not valid: it has 17 digits and a check digit or X.")
    if number[-1] != ric.calc_check_digit(number):
        return _("The ID number is not valid: its check digit is wrong.")
    try:
        birth_date = ric.get_birth_date(number)
    except StdnumError:
        return _("The ID number is not valid: it does not contain a real birth date.")
    if birth_date.year < EARLIEST_BIRTH_YEAR or birth_date > (today or timezone.localdate()):
        return _("The ID number is not valid: its birth date is impossible.")
    if not is_known_area_code(number[:6]):
        return _("The ID number is not valid: its area code is unknown.")
    return None


def birth_date_of(number: str) -> date:
    """Return the birth date encoded in a valid ID number (digits 7 to 14)."""
    return ric.get_birth_date(number)


def sex_of(number: str) -> str:
    """Return the sex encoded in a valid ID number: the 17th digit is odd for men."""
    return Person.Sex.MALE if int(number[16]) % 2 else Person.Sex.FEMALE


def normalize_uscc(value: str) -> str:
    """Return a unified social credit code without separators, upper-case."""
    return str(uscc_number.compact(str(value or "")))


def uscc_error(code: str) -> str | None:
    """Return why the normalized ``code`` is not a valid USCC, or None if it is valid."""
    return None if uscc_number.is_valid(code) else _("The unified social credit code is not valid.")

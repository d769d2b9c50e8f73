"""Masking of personal identifiers for lists and roles that need no full value."""

from __future__ import annotations


def mask_id_number(value: str) -> str:
    """Return an ID number with all but the first four and last four characters hidden.

    ``110101199003071234`` becomes ``1101**********1234``.
    """
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_name(value: str) -> str:
    """Return a name with every character but the first hidden (张** for 张三丰)."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)


def mask_phone(value: str) -> str:
    """Return a phone number showing only its first three and last four digits."""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]

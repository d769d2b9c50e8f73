"""W3C Bitstring Status Lists: encoding a list of positions and reading one back.

A list is a bitstring of at least 131,072 bits (16 KiB, so that one licence
cannot be told from another by the list's size), GZIP-compressed and encoded
as multibase base64url (a ``u`` prefix, no padding). Bit 0 is the leftmost bit
of the first byte.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from collections.abc import Iterable

MINIMUM_BITS = 131_072


def encode_list(set_positions: Iterable[int], *, length: int = 0) -> str:
    """Return the ``encodedList`` of a bitstring with ``set_positions`` set, at least ``length`` bits long."""
    positions = sorted(set(set_positions))
    needed = max(length, (positions[-1] + 1) if positions else 0)
    bits = max(MINIMUM_BITS, -(-needed // MINIMUM_BITS) * MINIMUM_BITS)
    data = bytearray(bits // 8)
    for position in positions:
        data[position // 8] |= 0x80 >> (position % 8)
    # mtime=0: the same list always encodes to the same bytes.
    compressed = gzip.compress(bytes(data), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_list(encoded_list: str) -> bytes:
    """Return the bitstring an ``encodedList`` encodes; raise ValueError for a malformed list."""
    if not encoded_list.startswith("u"):
        raise ValueError("not a multibase base64url bitstring")
    body = encoded_list[1:]
    try:
        return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (OSError, EOFError, zlib.error, binascii.Error) as error:
        raise ValueError("the list does not decompress") from error


def bit_of(bitstring: bytes, position: int) -> bool:
    """Return whether ``position`` is set in a decoded bitstring; raise ValueError if it is not in the list."""
    if not 0 <= position < len(bitstring) * 8:
        raise ValueError("the position is outside the list")
    return bool(bitstring[position // 8] & (0x80 >> (position % 8)))


def bit_at(encoded_list: str, position: int) -> bool:
    """Return whether ``position`` is set in an ``encodedList``; raise ValueError for a malformed list."""
    return bit_of(decode_list(encoded_list), position)


# -- IETF Token Status List (draft-ietf-oauth-status-list) -----------------------------------------
#
# The list an SD-JWT VC's ``status.status_list`` claim points to: ``bits`` bits
# per token, the status at index 0 in the least significant bits of the first
# byte, the bytes DEFLATE-compressed in the ZLIB format and base64url-encoded
# (``lst``). Two bits: 0 valid, 1 invalid (revoked), 2 suspended.

TOKEN_BITS = 2
TOKEN_VALID, TOKEN_INVALID, TOKEN_SUSPENDED = 0, 1, 2


def encode_token_list(statuses: dict[int, int], *, length: int = 0, bits: int = TOKEN_BITS) -> str:
    """Return the ``lst`` of a Token Status List with ``statuses`` (index: status), the rest valid.

    At least ``MINIMUM_BITS`` entries long, as the Bitstring lists are, so
    that the list's size says nothing about one token.
    """
    needed = max(length, (max(statuses) + 1) if statuses else 0)
    entries = max(MINIMUM_BITS, -(-needed // MINIMUM_BITS) * MINIMUM_BITS)
    per_byte = 8 // bits
    data = bytearray(entries // per_byte)
    for index, value in statuses.items():
        if not 0 <= value < (1 << bits):
            raise ValueError(f"status {value} does not fit in {bits} bits")
        data[index // per_byte] |= value << ((index % per_byte) * bits)
    return base64.urlsafe_b64encode(zlib.compress(bytes(data), 9)).rstrip(b"=").decode("ascii")


def decode_token_list(lst: str) -> bytes:
    """Return the bytes a Token Status List's ``lst`` encodes; raise ValueError for a malformed list."""
    try:
        return zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))
    except (zlib.error, binascii.Error, TypeError) as error:
        raise ValueError("the list does not decompress") from error


def token_status(data: bytes, index: int, *, bits: int = TOKEN_BITS) -> int:
    """Return the status at ``index`` of a decoded Token Status List; raise ValueError outside the list."""
    if bits not in (1, 2, 4, 8):
        raise ValueError("a status takes 1, 2, 4 or 8 bits")
    per_byte = 8 // bits
    if not 0 <= index < len(data) * per_byte:
        raise ValueError("the index is outside the list")
    return (data[index // per_byte] >> ((index % per_byte) * bits)) & ((1 << bits) - 1)

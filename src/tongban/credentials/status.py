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

"""Keep personal identifiers out of every log line.

Paths such as ``/exchange/v1/hz-persons/<ID number>`` carry identifiers;
Django logs them on 4xx answers and gunicorn in its access log. The filter and
the gunicorn logger below replace anything shaped like a resident ID number
(17 digits and a check character) or a unified social credit code with a mask
before the line is written.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

# Resident ID numbers: 17 digits + digit or X. USCC: 18 characters of the code
# alphabet starting with a registration-authority digit or letter and holding
# at least 6 digits (the region code), so ordinary words never match.
_IDENTIFIER = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|[0-9A-HJ-NP-RTUW-Y][0-9A-HJ-NP-RTUW-Y]\d{6}[0-9A-HJ-NP-RTUW-Y]{10})(?![0-9A-Za-z])"
)
MASK = "[redacted]"


def redact(text: str) -> str:
    """Return ``text`` with ID numbers and USCCs replaced by a mask."""
    return _IDENTIFIER.sub(MASK, text)


class RedactIdentifiersFilter(logging.Filter):
    """A logging filter that redacts identifiers from the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class RedactingGunicornLogger(GunicornLogger):
    """Gunicorn's logger with identifiers redacted from access-log paths."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in ("U", "r"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms

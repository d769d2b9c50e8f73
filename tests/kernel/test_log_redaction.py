"""No ID number or unified social credit code reaches a log line."""

from __future__ import annotations

import logging

import pytest

from tongban.kernel.logging import MASK, RedactIdentifiersFilter, redact

ID_NUMBER = "330106199003071234"
USCC = "91330106MA2H1234X5"


@pytest.mark.parametrize("text", [
    f"Not Found: /exchange/v1/hz-persons/{ID_NUMBER}",
    f"Not Found: /exchange/v1/hz-persons/{ID_NUMBER[:-1]}x",
    f"GET /exchange/v1/hz-legal-entities/{USCC}",
])
def test_identifiers_in_paths_are_redacted(text):
    assert MASK in redact(text)
    assert ID_NUMBER not in redact(text) and USCC not in redact(text)


@pytest.mark.parametrize("text", [
    "GET /api/v1/registries/persons?page=2 200",
    "call #123456 took 0.0123456789s",
    "sha256 0123456789abcdef0123456789abcdef",
])
def test_ordinary_lines_are_left_alone(text):
    assert redact(text) == text


def test_the_filter_redacts_messages_built_from_arguments():
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s",
                               (f"/exchange/v1/hz-persons/{ID_NUMBER}",), None)
    RedactIdentifiersFilter().filter(record)
    assert ID_NUMBER not in record.getMessage()


def test_gunicorn_access_atoms_are_redacted(monkeypatch):
    from gunicorn.glogging import Logger

    from tongban.kernel.logging import RedactingGunicornLogger

    path = f"/exchange/v1/hz-persons/{ID_NUMBER}"
    monkeypatch.setattr(Logger, "atoms", lambda self, *args: {"U": path, "r": f"GET {path} HTTP/1.1", "s": 404})
    logger = RedactingGunicornLogger.__new__(RedactingGunicornLogger)

    atoms = logger.atoms(None, None, {}, None)

    assert ID_NUMBER not in atoms["U"] and ID_NUMBER not in atoms["r"] and atoms["s"] == 404

"""The SMS seam: how notices reach a mobile phone.

``SmsGateway`` is the interface a provider's client implements; the setting
``NOTICES_SMS_GATEWAY`` (``TONGBAN_SMS_GATEWAY``) names the class to use.
``FileSmsGateway``, the default, is a working local gateway: it appends every
message as one JSON line to ``NOTICES_SMS_FILE`` (under ``TONGBAN_VAR_DIR``),
where developers and tests read what was sent. A province plugs in its SMS
platform's client (an HTTP API, an SMPP link) by writing a class with the same
``send`` and naming it in the setting.

Phone numbers are personal data: gateways must never log them whole
(``kernel.masking.mask_phone``).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from pathlib import Path
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from tongban.kernel.masking import mask_phone

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway could not send the message; the message says why (without the phone number)."""


@runtime_checkable
class SmsGateway(Protocol):
    """A provider of text messages to mobile phones."""

    def send(self, phone: str, text: str) -> str:
        """Send ``text`` to ``phone`` (digits, optionally with a leading +) and return the provider's message id.

        Raise SmsError if the message could not be sent; the caller retries later.
        """
        ...


class FileSmsGateway:
    """A local gateway: each message becomes one JSON line in a file (``NOTICES_SMS_FILE``).

    Lines hold ``id``, ``to``, ``text`` and ``sent_at``. The file is created
    readable by its owner only, since it holds phone numbers; appends are
    serialized with a file lock so that several workers can share it.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path if path is not None else settings.NOTICES_SMS_FILE)

    def send(self, phone: str, text: str) -> str:
        message_id = f"local-{uuid.uuid4().hex}"
        line = json.dumps({"id": message_id, "to": phone, "text": text, "sent_at": timezone.now().isoformat()},
                          ensure_ascii=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                handle.write(line + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise SmsError(f"cannot write the SMS file {self.path}: {error.strerror}") from error
        logger.info("SMS %s written for %s", message_id, mask_phone(phone))
        return message_id


def read_sent_messages(path: str | Path | None = None) -> list[dict[str, str]]:
    """Return the messages a ``FileSmsGateway`` wrote to ``path`` (the setting's file by default), oldest first."""
    file = Path(path if path is not None else settings.NOTICES_SMS_FILE)
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]


def get_sms_gateway() -> SmsGateway:
    """Return an instance of the gateway ``NOTICES_SMS_GATEWAY`` names."""
    gateway: SmsGateway = import_string(settings.NOTICES_SMS_GATEWAY)()
    return gateway

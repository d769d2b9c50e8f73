"""Notices fixtures: a real SMTP server on a free local port, the local SMS file, and the cast.

The cast: a citizen with an email address and a mobile number (the
recipient), another citizen (must see none of the recipient's notices), a
Hangzhou tax window officer (sends notices), and a platform administrator
(retries failed deliveries).
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.catalog.fixtures import *  # noqa: F403
from tests.catalog.fixtures import PASSWORD, SYSTEM, make_person
from tongban.identity import services as identity
from tongban.identity.models import Account
from tongban.notices import services as notices

SAMPLE = {"case_number": "330100-2026-000123", "service_name": "个体工商户设立登记", "due_date": "2026-12-18"}
PHONE = "13812345678"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server received: each message parsed, with its envelope recipients."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    refuse_with: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        if self.refuse_with:
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1: started, stopped and started again on the same port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_port(settings) -> int:
    """Point Django's SMTP backend at a free local port (nothing listens there yet)."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "通办 Tongban <noreply@tongban.example.gov.cn>"
    return port


@pytest.fixture
def smtp_server(smtp_port):
    """A running SMTP server on the port Django sends to."""
    server = SmtpServer(smtp_port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down(smtp_port):
    """The SMTP server Django sends to, not running yet (``start()`` brings it up)."""
    server = SmtpServer(smtp_port)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def sms_file(settings, tmp_path):
    """Keep the local SMS gateway's file in the test's own folder; return its path."""
    path = tmp_path / "sms" / "outbox.jsonl"
    settings.NOTICES_SMS_GATEWAY = "tongban.notices.sms.FileSmsGateway"
    settings.NOTICES_SMS_FILE = path
    return path


def make_citizen(username: str, *, name: str, email: str = "") -> Account:
    person = make_person(name=name)
    return identity.register_citizen(username=username, password=PASSWORD, name=person.name,
                                     id_number=person.id_number, email=email)


@pytest.fixture
def recipient(resources) -> Account:
    """A citizen with an email address and a mobile number for notices."""
    account = make_citizen("li-na", name="李娜", email="li.na@example.cn")
    notices.set_contact(account, actor=account, phone=PHONE, language="zh-hans")
    return account


@pytest.fixture
def other_citizen(resources) -> Account:
    return make_citizen("zhao-lei", name="赵磊", email="zhao.lei@example.cn")


@pytest.fixture
def sender(tax_window) -> Account:
    """The Hangzhou tax window officer, who sends notices about cases."""
    return tax_window


@pytest.fixture
def system():
    return SYSTEM

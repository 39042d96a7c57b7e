"""A real SMTP server for tests and the benchmark: aiosmtpd on a free localhost port, recording what it accepted.

`refuse_rcpt[address] = "550 ..."` refuses a recipient, `data_reply = "451 ..."` refuses every message at
DATA, `wait_for_sessions = N` holds each message until N SMTP sessions have said EHLO (to make two
processes overlap for certain). `start(**options)` passes aiosmtpd options (TLS, authentication).
"""
import asyncio
import socket
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    def __init__(self, port: int | None = None, record: bool = True):
        self.port = port or free_port()
        self.record = record  # False: accept and count only (the benchmark times Ladder, not a MIME parser)
        self.accepted = 0
        self.messages: list[EmailMessage] = []
        self.refuse_rcpt: dict[str, str] = {}
        self.data_reply: str | None = None
        self.wait_for_sessions = 0
        self.sessions: set[int] = set()
        self.secured: list[tuple[bool, bool]] = []  # per message: (over TLS, authenticated)
        self.controller: Controller | None = None

    # aiosmtpd handler hooks
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.sessions.add(id(session))
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        deadline = time.monotonic() + 20
        while len(self.sessions) < self.wait_for_sessions and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.data_reply:
            return self.data_reply
        self.accepted += 1
        if not self.record:
            return "250 Message accepted for delivery"
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        self.secured.append((tls, bool(session.authenticated)))
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def start(self, **options) -> "SmtpSink":
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

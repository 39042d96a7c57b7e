"""Digest e-mails: rendering (Chinese, text and HTML parts) and sending over SMTP with the MAIL_* settings."""
import smtplib
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from flask import current_app, render_template, url_for

from crm.models.reminder import TEST
from crm.reminders.engine import KIND_ORDER, days_left_text
from crm.reminders.outbox import ClaimedDigest

KIND_HEADINGS = {
    "hnte_expiry": "高企证书到期",
    "hnte_annual_report": "高企年度发展情况报表",
    "tech_sme_renewal": "科技型中小企业评价入库",
    "round_deadline": "申报批次截止",
    "follow_up_due": "跟进事项到期",
}


class MailError(Exception):
    """Why a message was not accepted. `permanent`: the server refused it for good (5xx); otherwise it is
    retried on the next run. `attempted`: False when the run had already found the server unusable and
    did not try this message."""

    def __init__(self, reason: str, permanent: bool = False, attempted: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.attempted = attempted


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {text}".strip()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class Mailer:
    """One SMTP session per run, opened at the first message: STARTTLS (MAIL_USE_TLS) or SSL
    (MAIL_USE_SSL), login when MAIL_USERNAME is set, every command under MAIL_TIMEOUT seconds."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self.smtp: smtplib.SMTP | None = None
        self.unavailable: str | None = None  # set once the server could not be used this run

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        host, port, timeout = c["MAIL_SERVER"], c["MAIL_PORT"], c["MAIL_TIMEOUT"]
        if c["MAIL_USE_SSL"]:
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        try:
            if c["MAIL_USE_TLS"] and not c["MAIL_USE_SSL"]:
                smtp.starttls(context=ssl.create_default_context())
            if c["MAIL_USERNAME"]:
                smtp.login(c["MAIL_USERNAME"], c["MAIL_PASSWORD"] or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Return only when the server accepted the message; else raise MailError."""
        if self.unavailable:
            raise MailError(self.unavailable, attempted=False)
        try:
            if self.smtp is None:
                self.smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            # Refused or timed-out connection, TLS or login failure: this run cannot send anything, and
            # a wrong password must not fail every digest for good, so all stay pending.
            server = f"{self.config['MAIL_SERVER']}:{self.config['MAIL_PORT']}"
            self.unavailable = f"无法使用邮件服务器 {server}，下次运行时重试：{_describe(exc)}"
            raise MailError(self.unavailable) from exc
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:  # one recipient per message
            code, reply = next(iter(exc.recipients.values()))
            raise MailError(_reply(code, reply), permanent=code >= 500) from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            raise MailError(_describe(exc), permanent=exc.smtp_code >= 500) from exc
        except smtplib.SMTPNotSupportedError as exc:  # e.g. a non-ASCII address this server cannot take
            raise MailError(_describe(exc), permanent=True) from exc
        except (OSError, smtplib.SMTPException) as exc:  # the session dropped or timed out
            self.close()
            self.unavailable = _describe(exc)
            raise MailError(self.unavailable) from exc

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None


def _sections(digest: ClaimedDigest) -> list[tuple[str, list]]:
    """Items grouped by kind in DOMAIN §6 order, each group sorted by due date then company."""
    groups = []
    for kind in KIND_ORDER:
        items = sorted((i for i in digest.items if i.kind == kind), key=lambda i: (i.due_on, i.company_name))
        if items:
            groups.append((KIND_HEADINGS[kind], items))
    return groups


@contextmanager
def digest_writer(today: date) -> Iterator[Callable[[ClaimedDigest], EmailMessage]]:
    """Yields `write(digest)`, the e-mail for a claimed digest, with links under LADDER_BASE_URL; always in
    Chinese. One request context serves every digest of a run, and each company's link is built once
    (an admin's digest repeats the companies without an officer)."""
    config = current_app.config
    sender = config["MAIL_DEFAULT_SENDER"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "ladder.local"
    with current_app.test_request_context(base_url=config["LADDER_BASE_URL"]):
        links = {"deadlines_url": url_for("reminders.deadlines", _external=True),
                 "preferences_url": url_for("reminders.preferences", _external=True)}
        company_urls: dict[int, str] = {}

        def company_url(company_id: int) -> str:
            if company_id not in company_urls:
                company_urls[company_id] = url_for("companies.show", company_id=company_id, _external=True)
            return company_urls[company_id]

        def write(digest: ClaimedDigest) -> EmailMessage:
            context = {"digest": digest, "today": today, "sections": _sections(digest), "when": days_left_text,
                       "company_url": company_url, **links}
            template = "email/test_email" if digest.kind == TEST else "email/reminder_digest"
            message = EmailMessage()
            message["Subject"] = ("Ladder 测试邮件" if digest.kind == TEST
                                  else f"Ladder 到期提醒：{len(digest.items)} 项（{today.isoformat()}）")
            message["From"] = sender
            message["To"] = digest.email
            message["Date"] = formatdate(localtime=True)
            # Stable per digest: a resent digest is recognisably the same message.
            message["Message-ID"] = f"<ladder.digest.{digest.id}.{digest.created_at:%Y%m%d%H%M%S}@{domain}>"
            message["X-Ladder-Digest"] = str(digest.id)
            message.set_content(render_template(f"{template}.txt", **context))
            message.add_alternative(render_template(f"{template}.html", **context), subtype="html")
            return message

        yield write

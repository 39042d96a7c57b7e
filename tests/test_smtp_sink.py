"""The SMTP sink the tests and the benchmark send to: records messages, or only counts them."""
import smtplib
from email.message import EmailMessage

import pytest

from crm.smtp_sink import SmtpSink


@pytest.mark.parametrize("record", [True, False])
def test_the_sink_accepts_and_records_or_only_counts(record):
    sink = SmtpSink(record=record).start()
    try:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "ladder@localhost", "a@example.test", "到期提醒"
        message.set_content("正文")
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as smtp:
            smtp.send_message(message)
        assert sink.accepted == 1
        assert [m["Subject"] for m in sink.messages] == (["到期提醒"] if record else [])
    finally:
        sink.stop()

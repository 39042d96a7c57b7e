"""The outbox and the digests (DOMAIN §6), against a real SMTP server: content, once-only delivery through
repeated runs, outages, 4xx/5xx replies and two concurrent `reminders run` processes."""
import os
import re
import socket
import ssl
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from crm.clock import utcnow
from crm.extensions import db
from crm.models import FollowUp, ReminderDigest, ReminderItem, Round
from crm.models.reminder import FAILED, PENDING, SENDING, SENT
from crm.reminders.outbox import CLAIM_LEASE, enqueue_test
from crm.reminders.service import run_reminders
from tests.conftest import d, staff
from crm.smtp_sink import SmtpSink, free_port

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://ladder.example.test/ladder"


@pytest.fixture
def bureau(make):
    """Two officers with companies due on 2023-12-02 and an orphan company; two admins."""
    zhang = staff("officer", username="zhang", display_name="张伟")
    li = staff("officer", username="li", display_name="李萍")
    admin = make.user("admin", username="boss", display_name="管理员")  # logs in to retry
    admin.email = "boss@example.test"
    staff("admin", username="boss2")
    acme = make.company(name="川东智能科技有限公司", officer_id=zhang.id)
    make.cert(acme, "hnte", issued_on=d("2020-12-03"), number="GR202051000001")  # last valid day 2023-12-02
    make.cert(make.company(name="巴山新材股份有限公司", officer_id=li.id), "hnte", issued_on=d("2020-12-03"))
    orphan = make.company(name="无人包联有限公司")
    make.cert(orphan, "hnte", issued_on=d("2020-12-10"))
    db.session.add(FollowUp(company_id=acme.id, title="核对研发费用归集", owner_id=zhang.id, due_on=d("2023-11-30")))
    db.session.add(Round(kind="hnte", year=2023, name="2023 年高企认定", opens_on=d("2023-05-01"), closes_on=d("2023-12-01")))
    db.session.commit()
    return {"zhang": zhang, "li": li, "admin": admin, "acme": acme, "orphan": orphan}


def statuses(model) -> dict[str, int]:
    return dict(db.session.execute(select(model.status, func.count()).group_by(model.status)).all())


def digest_ids(messages) -> list[str]:
    return sorted(m["X-Ladder-Digest"] for m in messages)


def parts(message) -> tuple[str, str]:
    return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content())


# --- digest content -----------------------------------------------------------------------------------

def test_one_digest_per_recipient_with_both_parts(bureau, smtp):
    result = run_reminders(d("2023-11-28"))
    recipients = sorted(m["To"] for m in smtp.messages)
    assert recipients == ["boss2@example.test", "boss@example.test", "li@example.test", "zhang@example.test"]
    assert (result.sent, result.failed) == (4, 0)
    for message in smtp.messages:
        assert message.get_content_type() == "multipart/alternative"
        assert message["X-Envelope-To"] == message["To"]
        assert message["Subject"].startswith("Ladder 到期提醒")
        text, html = parts(message)
        assert "您好" in text and "<html" in html


def test_digest_groups_by_kind_in_policy_order_and_sorts_by_due_date(bureau, smtp, make):
    other = make.company(name="州河电子科技有限公司", officer_id=bureau["zhang"].id)
    make.cert(other, "hnte", issued_on=d("2020-12-01"), number="GR202051000007")  # due 2023-11-30
    run_reminders(d("2023-11-28"))
    (message,) = smtp.to("zhang@example.test")
    text, html = parts(message)
    assert text.index("【高企证书到期】2 项") < text.index("【跟进事项到期】1 项")
    assert text.index("州河电子科技有限公司") < text.index("川东智能科技有限公司")  # 11-30 before 12-02
    assert html.index("高企证书到期") < html.index("跟进事项到期")
    assert "核对研发费用归集" in text and "到期日：2023-11-30（还剩 2 天）" in text
    assert "巴山新材" not in text and "无人包联" not in text  # not zhang's


def test_each_item_names_company_code_what_and_when_with_a_link(bureau, smtp):
    run_reminders(d("2023-11-28"))
    (message,) = smtp.to("zhang@example.test")
    text, html = parts(message)
    acme = bureau["acme"]
    link = f"{BASE}/companies/{acme.id}"
    assert f"川东智能科技有限公司（统一社会信用代码：{acme.uscc}）" in text
    assert "高企证书 GR202051000001 将于 2023-12-02 到期" in text and link in text
    assert f'<a href="{link}"' in html and acme.uscc in html


def test_links_resolve_to_the_company_page(bureau, smtp, client, auth):
    run_reminders(d("2023-11-28"))
    (message,) = smtp.to("boss@example.test")
    links = set(re.findall(r'href="([^"]+)"', parts(message)[1]))
    company_links = [link for link in links if "/companies/" in link]
    assert company_links == [f"{BASE}/companies/{bureau['orphan'].id}"]
    auth.login("boss")
    for link in links:
        assert link.startswith(BASE)
        response = client.get(link.removeprefix(BASE))
        assert response.status_code == 200, link
    assert "无人包联有限公司" in client.get(company_links[0].removeprefix(BASE)).get_data(as_text=True)


def test_admins_fallback_items_say_the_company_has_no_officer(bureau, smtp):
    run_reminders(d("2023-11-28"))
    for address in ("boss@example.test", "boss2@example.test"):
        (message,) = smtp.to(address)
        text = parts(message)[0]
        assert "无人包联有限公司" in text and "该企业尚无包联干部" in text
        assert "川东智能" not in text


# --- once and only once ---------------------------------------------------------------------------------

def test_same_day_twice_sends_nothing_new(bureau, smtp):
    first = run_reminders(d("2023-11-28"))
    items = db.session.scalar(select(func.count()).select_from(ReminderItem))
    second = run_reminders(d("2023-11-28"))
    assert (first.sent, first.items) == (4, 5)
    assert (second.sent, second.items, second.failed, second.queued) == (0, 0, 0, 0)
    assert len(smtp.messages) == 4
    assert db.session.scalar(select(func.count()).select_from(ReminderItem)) == items


def test_server_down_then_back_sends_each_pending_item_exactly_once(bureau, mail_settings):
    port = free_port()
    mail_settings(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5, LADDER_BASE_URL=BASE)
    down = run_reminders(d("2023-11-28"))  # nothing listens on the port: connection refused
    assert (down.sent, down.items, down.failed) == (0, 0, 4)
    assert statuses(ReminderItem) == {PENDING: 5} and statuses(ReminderDigest) == {PENDING: 4}
    errors = db.session.scalars(select(ReminderDigest.last_error)).all()
    assert all(e.startswith(f"无法使用邮件服务器 127.0.0.1:{port}，下次运行时重试：ConnectionRefusedError") for e in errors)

    sink = SmtpSink(port).start()
    try:
        back = run_reminders(d("2023-11-29"))
        again = run_reminders(d("2023-11-29"))
    finally:
        sink.stop()
    assert (back.sent, back.items, back.failed) == (4, 5, 0)
    assert (again.sent, again.items) == (0, 0)
    assert len(sink.messages) == 4 and len(set(digest_ids(sink.messages))) == 4
    assert statuses(ReminderItem) == {SENT: 5} and statuses(ReminderDigest) == {SENT: 4}


def test_pending_items_join_the_next_days_digest_and_an_older_lead_gives_way(bureau, smtp):
    smtp.data_reply = "451 4.3.0 Try again later"
    run_reminders(d("2023-11-27"))  # 3-day follow-up reminder and the 7-day expiry, not accepted
    smtp.data_reply = None
    run_reminders(d("2023-11-30"))  # the follow-up's due date: its lead-0 reminder replaces the 3-day one
    (message,) = smtp.to("zhang@example.test")
    text = parts(message)[0]
    assert text.count("核对研发费用归集") == 1 and "到期日：2023-11-30（今天到期）" in text
    assert "高企证书到期" in text  # the 7-day expiry notice, still waiting, goes with it
    assert db.session.scalars(select(ReminderItem.lead).where(ReminderItem.kind == "follow_up_due")).all() == [0]


def test_a_waiting_reminder_whose_follow_up_was_done_meanwhile_is_not_sent_late(bureau, smtp):
    """DOMAIN §6 "suppressed when the follow-up is done" holds for a reminder the mail server kept back too."""
    smtp.data_reply = "451 4.3.0 Try again later"
    run_reminders(d("2023-11-27"))  # the follow-up's 3-day reminder and the 7-day expiry, not accepted
    smtp.data_reply = None
    db.session.execute(update(FollowUp).values(done_at=utcnow()))
    db.session.commit()
    run_reminders(d("2023-11-28"))
    (message,) = smtp.to("zhang@example.test")
    text = parts(message)[0]
    assert "核对研发费用归集" not in text and "高企证书到期" in text
    assert db.session.scalars(select(ReminderItem.kind).where(ReminderItem.recipient_id == bureau["zhang"].id)
                              ).all() == ["hnte_expiry"]


def test_a_waiting_reminder_goes_to_whom_it_concerns_when_it_is_sent(bureau, smtp):
    """DOMAIN §6 "who = assigned officer": a reminder kept back by the mail server while its officer left and the
    company went to another officer is sent to the new officer (the old officer's follow-up too: next in line),
    not to the old officer's mailbox — and its lead does not fire twice."""
    smtp.data_reply = "451 4.3.0 Try again later"
    run_reminders(d("2023-11-27"))  # zhang's 3-day follow-up reminder and 7-day expiry, not accepted
    smtp.data_reply = None
    bureau["zhang"].active = False
    bureau["acme"].officer_id = bureau["li"].id
    db.session.commit()
    run_reminders(d("2023-11-28"))
    assert smtp.to("zhang@example.test") == []
    (to_li,) = smtp.to("li@example.test")
    assert "川东智能科技有限公司" in parts(to_li)[0] and "高企证书到期" in parts(to_li)[0]
    assert "核对研发费用归集" in parts(to_li)[0]
    assert db.session.scalar(select(func.count()).select_from(ReminderItem).where(
        ReminderItem.recipient_id == bureau["zhang"].id)) == 0
    smtp.messages.clear()
    run_reminders(d("2023-11-29"))
    assert "川东智能科技有限公司" not in "".join(parts(m)[0] for m in smtp.to("li@example.test"))


def test_a_waiting_admins_reminder_goes_to_the_officer_assigned_since(bureau, smtp, make):
    smtp.data_reply = "451 4.3.0 Try again later"
    run_reminders(d("2023-12-03"))  # the orphan's expiry (due 12-09, lead 7), to both admins, not accepted
    smtp.data_reply = None
    bureau["orphan"].officer_id = bureau["li"].id
    db.session.commit()
    run_reminders(d("2023-12-04"))
    assert "无人包联有限公司" in "".join(parts(m)[0] for m in smtp.to("li@example.test"))
    assert "无人包联有限公司" not in "".join(parts(m)[0] for m in smtp.to("boss@example.test"))


def test_a_run_catching_up_an_earlier_day_leaves_later_reminders_waiting(bureau, smtp):
    smtp.data_reply = "451 4.3.0 Try again later"
    run_reminders(d("2023-11-28"))  # the follow-up's 3-day reminder, kept back
    smtp.data_reply = None
    run_reminders(d("2023-11-20"))  # before that reminder's window: it cannot tell whether it is settled
    assert db.session.scalar(select(func.count()).select_from(ReminderItem).where(
        ReminderItem.kind == "follow_up_due")) == 1
    run_reminders(d("2023-11-29"))
    assert any("核对研发费用归集" in parts(m)[0] for m in smtp.to("zhang@example.test"))


def test_timeout_is_transient(bureau, mail_settings):
    with socket.socket() as silent:  # accepts connections, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        mail_settings(MAIL_SERVER="127.0.0.1", MAIL_PORT=silent.getsockname()[1], MAIL_TIMEOUT=1)
        result = run_reminders(d("2023-11-28"))
    assert (result.sent, result.failed) == (0, 4)
    assert statuses(ReminderDigest) == {PENDING: 4}
    assert "timed out" in db.session.scalars(select(ReminderDigest.last_error)).first()


def test_4xx_leaves_digest_pending_and_next_run_sends_it(bureau, smtp):
    smtp.data_reply = "451 4.3.0 Mailbox busy"
    failed = run_reminders(d("2023-11-28"))
    assert (failed.sent, failed.failed) == (0, 4)
    digest = db.session.scalars(select(ReminderDigest)).first()
    assert (digest.status, digest.attempts, digest.last_error) == (PENDING, 1, "451 4.3.0 Mailbox busy")
    smtp.data_reply = None
    assert run_reminders(d("2023-11-28")).sent == 4
    assert len(smtp.messages) == 4 and statuses(ReminderItem) == {SENT: 5}


def test_5xx_is_shown_to_the_admins_and_retried_by_the_next_run(bureau, smtp, client, auth):
    """DOMAIN §6: a failed send is retried on the next run, never dropped — a refusal too."""
    smtp.refuse_rcpt["zhang@example.test"] = "550 5.1.1 No such user"
    first = run_reminders(d("2023-11-28"))
    assert (first.sent, first.failed) == (3, 1)
    failed = db.session.scalar(select(ReminderDigest).where(ReminderDigest.status == FAILED))
    assert failed.last_error == "550 5.1.1 No such user" and failed.email == "zhang@example.test"
    items = db.session.scalars(select(ReminderItem.status).where(ReminderItem.digest_id == failed.id)).all()
    assert items == [PENDING] * 2

    auth.login("boss")
    page = client.get("/reminders/admin?status=failed").get_data(as_text=True)
    assert "550 5.1.1 No such user" in page and "下次提醒任务将再次发送" in page
    again = run_reminders(d("2023-11-29"))  # still refused: tried again, kept again
    assert (again.sent, again.failed) == (0, 1)
    db.session.refresh(failed)
    assert (failed.status, failed.attempts) == (FAILED, 2)
    del smtp.refuse_rcpt["zhang@example.test"]
    retried = run_reminders(d("2023-11-30"))  # the address works again; today's new items join the same e-mail
    assert retried.sent == 1 and len(smtp.to("zhang@example.test")) == 1
    db.session.refresh(failed)
    assert failed.status == SENT and retried.items >= 2
    assert statuses(ReminderDigest) == {SENT: 4}


def test_a_refused_test_email_is_tried_once(bureau, smtp):
    """A test e-mail answers "does mail reach me?" once; a reminder digest is retried until it goes."""
    from crm.reminders.outbox import enqueue_test

    enqueue_test(bureau["zhang"], d("2030-01-01"))
    db.session.commit()
    smtp.refuse_rcpt["zhang@example.test"] = "550 5.1.1 No such user"
    assert (run_reminders(d("2030-01-01")).failed, run_reminders(d("2030-01-02")).failed) == (1, 0)


def test_a_refused_digest_left_by_an_earlier_ladder_is_sent_with_its_items(bureau, smtp):
    """Before refusals were retried, their items were marked failed too: the next run sends them all the same."""
    smtp.refuse_rcpt["zhang@example.test"] = "550 5.1.1 No such user"
    run_reminders(d("2023-11-28"))
    failed = db.session.scalar(select(ReminderDigest).where(ReminderDigest.status == FAILED))
    db.session.execute(update(ReminderItem).where(ReminderItem.digest_id == failed.id).values(status=FAILED))
    db.session.commit()
    del smtp.refuse_rcpt["zhang@example.test"]
    assert run_reminders(d("2023-11-28")).items == 2
    assert statuses(ReminderItem) == {SENT: 5}


def test_a_claimed_digest_is_skipped_until_its_claim_expires(bureau, smtp):
    smtp.data_reply = "451 later"
    run_reminders(d("2023-11-28"))
    smtp.data_reply = None
    digest = db.session.scalars(select(ReminderDigest).order_by(ReminderDigest.id)).first()
    db.session.execute(update(ReminderDigest).where(ReminderDigest.id == digest.id)
                       .values(status=SENDING, claimed_at=utcnow()))
    db.session.commit()
    assert run_reminders(d("2023-11-28")).sent == 3  # another run holds it
    db.session.execute(update(ReminderDigest).where(ReminderDigest.id == digest.id)
                       .values(claimed_at=utcnow() - CLAIM_LEASE - timedelta(minutes=1)))
    db.session.commit()
    assert run_reminders(d("2023-11-28")).sent == 1  # that run died mid-send: sent now
    assert len(smtp.messages) == 4 and len(set(digest_ids(smtp.messages))) == 4


# --- two processes at the same moment -------------------------------------------------------------------

def test_two_concurrent_runs_send_each_digest_once(bureau, smtp, database_url):
    smtp.wait_for_sessions = 2  # hold each message until both processes are talking to the server
    env = {**os.environ, "DATABASE_URL": database_url, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port),
           "MAIL_TIMEOUT": "30", "LADDER_BASE_URL": BASE, "LADDER_ENV": "development", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "reminders", "run", "--today", "2023-11-28"]
    runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=90) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    lines = [out.strip() for out, _ in outputs]
    sent = [int(re.fullmatch(r"sent (\d+) e-mails, \d+ items; failed 0", line)[1]) for line in lines]
    assert sorted(digest_ids(smtp.messages)) == sorted(set(digest_ids(smtp.messages)))  # no digest twice
    assert len(smtp.messages) == sum(sent) == 4
    assert min(sent) >= 1  # both really ran at once
    assert sorted(m["To"] for m in smtp.messages) == [
        "boss2@example.test", "boss@example.test", "li@example.test", "zhang@example.test"]
    assert statuses(ReminderItem) == {SENT: 5}


# --- STARTTLS and SSL, with a login ------------------------------------------------------------------

@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1; clients trust it through SSL_CERT_FILE (as an operator would
    point at the bureau's CA bundle)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_starttls_and_ssl_with_login(make, mail_settings, tls_files, monkeypatch, mode):
    from aiosmtpd.smtp import AuthResult

    cert, key = tls_files
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    options = {"authenticator": authenticator}
    if mode == "starttls":
        options.update(tls_context=server_tls, require_starttls=True, auth_require_tls=True)
    else:  # aiosmtpd counts only STARTTLS as TLS for AUTH; the whole connection is TLS here
        options.update(ssl_context=server_tls, auth_require_tls=False)
    sink = SmtpSink().start(**options)
    mail_settings(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port, MAIL_USE_TLS=mode == "starttls",
                  MAIL_USE_SSL=mode == "ssl", MAIL_USERNAME="ladder", MAIL_PASSWORD="s3cret")
    try:
        enqueue_test(make.user("admin"), d("2030-01-01"))
        db.session.commit()
        result = run_reminders(d("2030-01-01"))
    finally:
        sink.stop()
    assert (result.sent, result.failed) == (1, 0), db.session.scalars(select(ReminderDigest.last_error)).all()
    assert sink.secured == [(True, True)] and logins == [(b"ladder", b"s3cret")]

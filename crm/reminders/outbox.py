"""The reminder outbox (DOMAIN §6): every item and every digest is recorded before anything is sent.

- A reminder fires at most once per (kind, subject, due date, lead), whoever receives it: an item is unique
  per (kind, subject, due date, lead, recipient) — recording it twice is a no-op, so a second run on the same
  day sends nothing new — and a lead that fired for anyone (the admins before an officer was assigned, the
  officer before a reassignment) does not fire again.
- Of the leads passed since the last run only the nearest fires; an older lead still waiting to be sent
  (the mail server was down) gives way to it, so an e-mail never lists one deadline twice.
- One run fills the outbox at a time (`write_transaction(exclusive=True)`); new items join their
  recipient's pending digest, so one e-mail per recipient carries today's items and any left over.
- A digest is claimed (status `sending`, committed) before the SMTP conversation, under a row lock, so a
  concurrent run skips it; it turns `sent` only after the server accepted the message. Any failure is
  retried by the next run, never dropped: a transient one (no server, 4xx) leaves it `pending`, a refusal
  (5xx, e.g. an address that does not exist) marks it `failed`, shown to the admins with the server's reply.
- An item kept back is sent as things stand at the next run: dropped if its subject was settled meanwhile,
  re-addressed if it now concerns someone else (`_drop_stale`).
- A claim older than CLAIM_LEASE belongs to a run that died mid-send: it is claimed again. If that run
  had died after the server accepted the message and before recording it, the recipient gets it twice;
  we prefer that to a reminder that is never sent.
"""
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, delete, exists, func, or_, select, text, update
from sqlalchemy.engine import Connection

from crm.extensions import db, insert_ignoring_duplicates
from crm.models import Company, ReminderDigest, ReminderItem, User
from crm.models.reminder import FAILED, PENDING, REMINDERS, SENDING, SENT, TEST
from crm.reminders.engine import DueItem

UNSENT = (PENDING, FAILED)  # a digest or item the next run sends
CLAIM_LEASE = timedelta(minutes=30)  # far beyond one SMTP conversation (MAIL_TIMEOUT per command)
OUTBOX_LOCK = 0x1add3c0de  # PostgreSQL advisory lock held while one run fills the outbox


@dataclass(frozen=True)
class Recipient:
    id: int
    is_admin: bool
    opted_out: frozenset[str]


@dataclass(frozen=True)
class ClaimedItem:
    kind: str
    company_id: int | None
    company_name: str
    uscc: str
    due_on: date
    text: str
    to_admins: bool


@dataclass(frozen=True)
class ClaimedDigest:
    id: int
    kind: str
    email: str
    recipient_name: str
    created_at: datetime
    items: tuple[ClaimedItem, ...]


@contextmanager
def write_transaction(exclusive: bool = False) -> Iterator[Connection]:
    """A transaction on its own connection that holds the write lock from its first statement.

    SQLite: pysqlite would BEGIN lazily and deferred, so two processes could both read a digest as
    pending before either writes. The connection runs in AUTOCOMMIT (pysqlite isolation_level None: no
    implicit BEGIN; SQLAlchemy restores the level when the connection returns to the pool) and we issue
    BEGIN IMMEDIATE ourselves: one writer at a time, others wait (busy_timeout), every read is current.
    PostgreSQL: an ordinary transaction; callers lock rows (FOR UPDATE [SKIP LOCKED]); `exclusive` adds a
    transaction-scoped advisory lock so only one run fills the outbox at a time.
    The caller's db.session must hold no uncommitted writes (on SQLite it would wait for itself).
    """
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
        else:
            with conn.begin():
                if exclusive:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": OUTBOX_LOCK})
                yield conn


def _insert_new(conn: Connection, rows: list[dict]) -> None:
    """INSERT … ON CONFLICT (key) DO NOTHING: an item already recorded is not recorded again."""
    conn.execute(insert_ignoring_duplicates(ReminderItem, conn.dialect.name, ["key"]), rows)


def _not_superseded(conn: Connection, rows: list[dict]) -> list[dict]:
    """Leave out a lead when it, or a nearer one of the same reminder, already fired for anyone (DOMAIN §6: at
    most once per kind, subject, due date and lead; of the leads passed since the last run only the nearest
    fires, and a lead it passed over never fires later — not even in a run for an earlier day). A lead fired
    today for several admins is recorded for each of them in this same run."""
    nearest: dict[tuple, int] = {}
    keys = sorted({r["subject_key"] for r in rows})
    for start in range(0, len(keys), 500):
        for kind, subject, due, lead in conn.execute(
                select(ReminderItem.kind, ReminderItem.subject_key, ReminderItem.due_on, func.min(ReminderItem.lead))
                .where(ReminderItem.subject_key.in_(keys[start:start + 500]))
                .group_by(ReminderItem.kind, ReminderItem.subject_key, ReminderItem.due_on)):
            nearest[(kind, subject, due)] = lead
    return [r for r in rows if nearest.get((r["kind"], r["subject_key"], r["due_on"]), r["lead"] + 1) > r["lead"]]


def _waiting(conn: Connection, *where):
    """Items not sent yet and not in a digest a run is sending right now."""
    in_flight = select(ReminderDigest.id).where(ReminderDigest.status == SENDING)
    return conn.execute(
        select(ReminderItem.id, ReminderItem.kind, ReminderItem.subject_key, ReminderItem.due_on,
               ReminderItem.recipient_id, ReminderItem.lead)
        .where(ReminderItem.status == PENDING, *where,
               or_(ReminderItem.digest_id.is_(None), ReminderItem.digest_id.not_in(in_flight))))


def _drop(conn: Connection, item_ids: list[int]) -> None:
    for start in range(0, len(item_ids), 500):
        conn.execute(delete(ReminderItem).where(ReminderItem.id.in_(item_ids[start:start + 500])))


def _give_way(conn: Connection, rows: list[dict]) -> None:
    """An older lead of a reminder that has not gone out yet (the mail server was down) is replaced by the nearer
    one firing now."""
    nearer = {(r["kind"], r["subject_key"], r["due_on"], r["recipient_id"]): r["lead"] for r in rows}
    _drop(conn, [w.id for w in _waiting(conn)
                 if nearer.get((w.kind, w.subject_key, w.due_on, w.recipient_id), w.lead) < w.lead])


def _drop_stale(conn: Connection, concerned: dict[tuple, set[int]], today: date) -> None:
    """Reminders not sent yet that no longer stand as they were recorded, in one read of the waiting items.
    `concerned`: who today's run addresses for each (kind, subject, due date) firing today.

    - Settled: its subject was dealt with meanwhile (the follow-up done, the report filed, the application
      submitted, a later certificate recorded: DOMAIN §6's "suppressed when"); it would ask for what is done. One
      whose due date has passed is still sent — it fired in time.
    - Re-addressed: it now concerns someone else (its officer left or no longer covers the company's area, the
      company or follow-up went to another officer, a company the admins heard about got an officer); it is
      dropped here and recorded anew for whom it concerns today (DOMAIN §6 "who").
    One fired after `today` is left alone: a run catching up an earlier day cannot judge it."""
    stale = []
    for w in _waiting(conn, ReminderItem.fired_on <= today):
        key = (w.kind, w.subject_key, w.due_on)
        if key not in concerned:
            if w.due_on >= today:
                stale.append(w.id)
        elif w.recipient_id not in concerned[key]:
            stale.append(w.id)
    _drop(conn, stale)


def item_key(item: DueItem, recipient_id: int) -> str:
    return f"{item.kind}|{item.subject_key}|{item.due_on.isoformat()}|{item.lead}|{recipient_id}"


def addressed(items: Iterable[DueItem], recipients: Mapping[int, Recipient]) -> list[tuple[DueItem, int, bool]]:
    """(item, user id, is an admins' fallback) for each e-mail line: an item without an officer goes to
    every active admin, whatever they opted out of; others to their recipient unless they opted out
    of the kind (or are no longer active)."""
    admins = [r.id for r in recipients.values() if r.is_admin]
    out = []
    for item in items:
        if item.recipient_id is None:
            out.extend((item, admin, True) for admin in admins)
        elif item.recipient_id in recipients and item.kind not in recipients[item.recipient_id].opted_out:
            out.append((item, item.recipient_id, False))
    return out


def enqueue(today: date, items: list[DueItem], recipients: Mapping[int, Recipient]) -> int:
    """Record today's items (those not yet recorded) and give every unassigned pending item a digest:
    its recipient's pending digest if there is one, else a new one. Returns the items assigned."""
    rows = [
        {"key": item_key(item, uid), "kind": item.kind, "subject_key": item.subject_key,
         "company_id": item.company_id, "recipient_id": uid, "to_admins": fallback, "due_on": item.due_on,
         "lead": item.lead, "text": item.text[:500], "fired_on": today, "status": PENDING}
        for item, uid, fallback in addressed(items, recipients)
    ]
    concerned: dict[tuple, set[int]] = {(item.kind, item.subject_key, item.due_on): set() for item in items}
    for row in rows:
        concerned[(row["kind"], row["subject_key"], row["due_on"])].add(row["recipient_id"])
    unassigned = and_(ReminderItem.status == PENDING, ReminderItem.digest_id.is_(None),
                      ReminderItem.recipient_id.isnot(None))
    with write_transaction(exclusive=True) as conn:
        _drop_stale(conn, concerned, today)
        rows = _not_superseded(conn, rows)
        if rows:
            _give_way(conn, rows)
            _insert_new(conn, rows)
        waiting = dict(conn.execute(
            select(ReminderItem.recipient_id, func.count()).where(unassigned).group_by(ReminderItem.recipient_id)
        ).all())
        if waiting:
            emails = dict(conn.execute(select(User.id, User.email).where(User.id.in_(waiting))).all())
            # Locked, so a concurrent run cannot claim a digest while items join it (and skips it).
            open_digests = dict(conn.execute(
                select(ReminderDigest.recipient_id, ReminderDigest.id)
                .where(ReminderDigest.kind == REMINDERS, ReminderDigest.status.in_(UNSENT),
                       ReminderDigest.recipient_id.in_(waiting))
                .order_by(ReminderDigest.id).with_for_update()
            ).all())
            for uid in waiting:
                digest_id = open_digests.get(uid) or conn.execute(
                    ReminderDigest.__table__.insert().values(
                        kind=REMINDERS, recipient_id=uid, email=emails[uid], run_on=today, status=PENDING,
                    ).returning(ReminderDigest.id)
                ).scalar_one()
                conn.execute(update(ReminderItem).where(unassigned, ReminderItem.recipient_id == uid)
                             .values(digest_id=digest_id))
            conn.execute(update(ReminderDigest).where(ReminderDigest.id.in_(open_digests.values()))
                         .values(run_on=today))
        # A digest whose items all went with their company has nothing left to say.
        conn.execute(delete(ReminderDigest).where(
            ReminderDigest.kind == REMINDERS, ReminderDigest.status.in_(UNSENT),
            ~exists().where(ReminderItem.digest_id == ReminderDigest.id)))
    return sum(waiting.values())


def claim_next(after_id: int, now: datetime, sent_id: int | None = None) -> ClaimedDigest | None:
    """Claim the next sendable digest after `after_id` (pending, refused last time — a test e-mail is tried once —
    or abandoned mid-send) and read what it
    says; a digest another run holds is skipped (SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite).
    `sent_id`, the digest the server just accepted, is recorded as sent in the same transaction: one
    write transaction per digest instead of two."""
    with write_transaction() as conn:
        if sent_id is not None:
            _mark_sent(conn, sent_id, now)
        digest = conn.execute(
            select(ReminderDigest.id, ReminderDigest.kind, ReminderDigest.email, ReminderDigest.created_at,
                   ReminderDigest.recipient_id)
            .where(ReminderDigest.id > after_id,
                   or_(ReminderDigest.status == PENDING,
                       and_(ReminderDigest.status == FAILED, ReminderDigest.kind == REMINDERS),  # not test e-mails
                       and_(ReminderDigest.status == SENDING, ReminderDigest.claimed_at < now - CLAIM_LEASE)))
            .order_by(ReminderDigest.id).limit(1).with_for_update(skip_locked=True)
        ).first()
        if digest is None:
            return None
        user = conn.execute(select(User.email, User.display_name, User.username)
                            .where(User.id == digest.recipient_id)).first()
        email = user.email if user is not None else digest.email  # an address fixed since is used on retry
        conn.execute(update(ReminderDigest).where(ReminderDigest.id == digest.id)
                     .values(status=SENDING, claimed_at=now, email=email))
        items = conn.execute(
            select(ReminderItem.kind, ReminderItem.company_id, Company.name, Company.uscc, ReminderItem.due_on,
                   ReminderItem.text, ReminderItem.to_admins)
            .outerjoin(Company, Company.id == ReminderItem.company_id)
            .where(ReminderItem.digest_id == digest.id, ReminderItem.status.in_(UNSENT))
            .order_by(ReminderItem.due_on, Company.name, ReminderItem.id)
        ).all()
    return ClaimedDigest(
        digest.id, digest.kind, email, (user.display_name or user.username) if user is not None else "",
        digest.created_at,
        tuple(ClaimedItem(i.kind, i.company_id, i.name or "", i.uscc or "", i.due_on, i.text, i.to_admins)
              for i in items),
    )


def _mark_sent(conn: Connection, digest_id: int, now: datetime) -> None:
    conn.execute(update(ReminderDigest).where(ReminderDigest.id == digest_id).values(
        status=SENT, sent_at=now, last_error="", attempts=ReminderDigest.attempts + 1))
    conn.execute(update(ReminderItem).where(ReminderItem.digest_id == digest_id, ReminderItem.status.in_(UNSENT))
                 .values(status=SENT))


def mark_sent(digest_id: int, now: datetime) -> None:
    with write_transaction() as conn:
        _mark_sent(conn, digest_id, now)


def mark_failed(digest_id: int, reason: str) -> None:
    """A refusal (5xx): shown to the admins with the server's reply; a reminder digest is retried by the next run
    like any other failure (DOMAIN §6: never dropped — an officer's mailbox may be fixed meanwhile), a test
    e-mail is not."""
    with write_transaction() as conn:
        conn.execute(update(ReminderDigest).where(ReminderDigest.id == digest_id).values(
            status=FAILED, last_error=reason[:2000], claimed_at=None, attempts=ReminderDigest.attempts + 1))


def release(digest_id: int, reason: str, attempted: bool) -> None:
    """A transient failure: pending again, for the next run."""
    values = {"status": PENDING, "last_error": reason[:2000], "claimed_at": None}
    if attempted:
        values["attempts"] = ReminderDigest.attempts + 1
    with write_transaction() as conn:
        conn.execute(update(ReminderDigest).where(ReminderDigest.id == digest_id).values(**values))


def enqueue_test(user: User, today: date) -> ReminderDigest:
    """A test e-mail to `user`, sent by the next run (never from a web request)."""
    digest = ReminderDigest(kind=TEST, recipient_id=user.id, email=user.email, run_on=today, status=PENDING)
    db.session.add(digest)
    return digest

"""Demo rounds: this year's 科小 and 高企 rounds with ~40 applications and believable move histories.

Applications go through the same service as the web pages, back-dated: how far each one got depends on
the day the demo is loaded (nothing is submitted before a round opens, nothing approved before it closes).
"""
import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.clock import today
from crm.extensions import db
from crm.models import Company, Round, User
from crm.rounds.service import certification_barrier, move_application, open_application, save_round

PATHS = [  # the way each demo application goes, cut short where the calendar does not allow more yet
    ["intent"],
    ["intent", "coaching"],
    ["intent", "coaching", "preparing"],
    ["intent", "coaching", "preparing", "submitted"],
    ["intent", "coaching", "preparing", "submitted", "preparing", "submitted"],  # returned for corrections
    ["intent", "coaching", "preparing", "submitted", "publicised"],
    ["intent", "coaching", "preparing", "submitted", "publicised", "approved"],
    ["intent", "preparing", "submitted", "publicised", "approved"],
    ["intent", "coaching", "preparing", "submitted", "publicised", "approved"],
    ["intent", "coaching", "preparing", "submitted", "rejected"],
    ["intent", "coaching", "withdrawn"],
]
REASONS = {
    "rejected": ["研发费用占比未达标准", "知识产权与主营产品关联度不足", "科技人员占比不足"],
    "withdrawn": ["企业今年暂不申报，明年再报", "财务审计报告未能按时出具", "未在截止日前完成材料"],
}


def _window(stage: str, round_: Round, on: date) -> tuple[date, date]:
    """When a move to `stage` can plausibly happen in this round."""
    opens, closes = round_.opens_on, round_.closes_on
    return {
        "intent": (min(opens - timedelta(days=60), on - timedelta(days=20)), opens + timedelta(days=30)),
        "coaching": (opens - timedelta(days=60), closes),
        "preparing": (opens - timedelta(days=45), closes),
        "submitted": (opens, closes),
        "publicised": (closes + timedelta(days=10), closes + timedelta(days=40)),
        "approved": (closes + timedelta(days=25), closes + timedelta(days=70)),
        "rejected": (closes + timedelta(days=25), closes + timedelta(days=70)),
        "withdrawn": (opens - timedelta(days=30), closes + timedelta(days=30)),
    }[stage]


def _history(rng: random.Random, round_: Round, path: list[str], on: date) -> list[tuple[str, date]]:
    """Dates for the stages of `path`, in order, each after the last and not after `on`."""
    steps, last = [], None
    for stage in path:
        lo, hi = _window(stage, round_, on)
        lo, hi = max(lo, last + timedelta(days=1)) if last else lo, min(hi, on)
        if lo > hi:
            break
        last = lo + timedelta(days=rng.randint(0, min((hi - lo).days, 25)))
        steps.append((stage, last))
    return steps


def _at(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time(rng.randint(1, 9), rng.randint(0, 59)))  # office hours in 达州 (UTC+8)


def _apply(rng: random.Random, round_: Round, companies: list[Company], by_default: User, on: date) -> int:
    made = 0
    for company in companies:
        path = rng.choice(PATHS)
        if on > round_.closes_on and path[-1] in ("intent", "coaching", "preparing"):
            path = path + ["withdrawn"]  # never submitted before the deadline
        steps = _history(rng, round_, path, on)
        if not steps:
            continue
        by = company.officer or by_default
        application = open_application(company, round_, by=by, now=_at(rng, steps[0][1]), on=steps[0][1])
        for stage, day in steps[1:]:
            extra = {}
            if stage == "approved":
                prefix = "GR" if round_.kind == "hnte" else f"{round_.year}5117"
                extra = {"number": f"{prefix}{rng.randint(10000, 99999)}", "issued_on": day}
            elif stage in REASONS:
                extra = {"reason": rng.choice(REASONS[stage])}
            move_application(application, stage, by=by, now=_at(rng, day), on=day, **extra)
        made += 1
    return made


def _round(kind: str, year: int, name: str, opens_on: date, closes_on: date) -> Round:
    """The demo round, or the one of that name an operator opened before seeding."""
    return db.session.scalar(select(Round).where(Round.kind == kind, Round.year == year, Round.name == name)) \
        or save_round(Round(), kind, year, name, opens_on, closes_on)


def seed(rng: random.Random) -> str:
    on = today()
    year = on.year
    tech_sme = _round("tech_sme", year, f"{year}年科技型中小企业评价", date(year, 6, 30), date(year, 9, 30))
    hnte = _round("hnte", year, f"{year}年高新技术企业认定（第二批）", date(year, 8, 1), date(year, 12, 15))
    admin = db.session.scalar(select(User).where(User.role == "admin").order_by(User.id))
    companies = list(db.session.scalars(
        select(Company).where(Company.officer_id.isnot(None)).options(selectinload(Company.certifications))
        .order_by(Company.id)
    ))
    rng.shuffle(companies)
    made = 0
    for round_, wanted in ((tech_sme, 24), (hnte, 16)):
        candidates = [c for c in companies if certification_barrier(c.certifications, round_) is None][:wanted]
        companies = [c for c in companies if c not in candidates]
        made += _apply(rng, round_, candidates, admin, on)
    return f"2 rounds, {made} applications"

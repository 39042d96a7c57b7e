"""操作日志: the audit trail as admins read it — who changed, deleted or exported what, and when.

The trail itself is written by crm.audit; this reads one page of it, filtered, with what each entry is about
named and linked, in a fixed number of queries however long the page.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import url_for
from flask_babel import gettext, pgettext
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from crm.audit import source_label
from crm.changes import Change, described
from crm.clock import utc_start_of
from crm.extensions import db
from crm.i18n import N_, translated
from crm.ladder.standing import RUNG_LABELS
from crm.models import Area, AuditLog, Company, Round, Target, User
from crm.normalize import InvalidValue, parse_date, url_int
from crm.targets.service import METRIC_LABELS

ENTITIES = ("company", "certification", "figures", "annual_report", "visit", "user", "target", "round", "setting",
            "export", "shortlist")
# What an export entry records (crm.transfer.routes, crm.ladder, crm.visits): its settings, by these names.
EXPORT_LABELS = {
    "kind": N_("资质类型"), "year": N_("年度"), "format": N_("格式"), "rows": N_("行数"), "q": N_("搜索"),
    "standing": N_("当前梯次"), "sort": N_("排序"), "start": N_("起始日期"), "end": N_("截止日期"), "area_id": N_("区域"),
    "state": N_("跟进状态"), "owner_id": N_("负责人"), "as_of": N_("截至日期"),
}
FOLLOW_UP_STATES = {"open": N_("未完成"), "overdue": N_("已逾期"), "done": N_("已完成"), "all": N_("全部")}
EXPORT_VALUES = {"standing": RUNG_LABELS, "state": FOLLOW_UP_STATES}
LISTS = {"companies": N_("企业名单"), "visits": N_("走访台账"), "follow_ups": N_("跟进事项台账"), "report": N_("月报")}


def entity_labels() -> dict[str, str]:
    """The kinds of record in the trail as the log names them (in a context of their own: English says "user
    account" here, "Users" in the menu)."""
    return {"company": pgettext("log", "企业"), "certification": pgettext("log", "资质"),
            "figures": pgettext("log", "年度数据"), "annual_report": pgettext("log", "年报"),
            "visit": pgettext("log", "走访记录"), "target": pgettext("log", "目标"), "round": pgettext("log", "申报批次"),
            "user": pgettext("log", "用户"), "setting": pgettext("log", "规则参数"),
            "export": pgettext("log", "名单导出"), "shortlist": pgettext("log", "申报名单导出")}


def action_label(entry: AuditLog) -> str:
    if entry.entity == "setting" and entry.action == "delete":
        return pgettext("log", "恢复默认值")
    return {"create": pgettext("log", "新建了"), "update": pgettext("log", "修改了"),
            "delete": pgettext("log", "删除了"), "export": pgettext("log", "导出了")}.get(entry.action, entry.action)


NOBODY = 0  # the `who` filter's value for entries no one signed in made (commands, imports from cron, jobs)


@dataclass(frozen=True)
class LogFilter:
    who: int | None = None      # a user's id, or NOBODY
    what: str = ""              # one of ENTITIES
    subject: int | None = None  # with `what`: that record's history (a user's, a visit's)
    start: date | None = None
    end: date | None = None


@dataclass
class LogEntry:
    entry: AuditLog
    actor: str
    action: str
    subject: str
    subject_url: str | None
    lines: tuple[Change, ...]

    @property
    def shows_values_only(self) -> bool:
        """A new record's or an export's lines say what it is, not what it was: one value each."""
        return self.entry.action in ("create", "export")


def log_query(f: LogFilter) -> Select:
    stmt = select(AuditLog).options(joinedload(AuditLog.user))
    if f.who is not None:
        stmt = stmt.where(AuditLog.user_id.is_(None) if f.who == NOBODY else AuditLog.user_id == f.who)
    if f.what:
        stmt = stmt.where(AuditLog.entity == f.what)
        if f.subject is not None:
            stmt = stmt.where(AuditLog.entity_id == f.subject)
    if f.start:
        stmt = stmt.where(AuditLog.at >= utc_start_of(f.start))
    if f.end:
        stmt = stmt.where(AuditLog.at < utc_start_of(f.end + timedelta(days=1)))
    return stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc())


def _export_changes(params: dict) -> dict[str, list]:
    """An export's settings as a change set from nothing, so described() names them as it names fields (and
    words the values it knows: a certification kind, an area, an officer)."""
    flat = dict(params.get("filter") or {}) | {k: v for k, v in params.items() if k not in ("filter", "list")}
    return {k: [None, _export_value(k, v)] for k, v in flat.items()}


def _export_value(key: str, value: Any) -> Any:
    if key == "officer_id" and value == 0:
        return gettext("未分配")
    labels = EXPORT_VALUES.get(key, {})
    return gettext(labels[value]) if value in labels else value


def log_entries(entries: list[AuditLog], setting_labels: dict[str, str]) -> list[LogEntry]:
    """The page's entries, each with who made it, what it is about (linked while that still exists) and its
    lines; names looked up together for the whole page."""
    company_ids = {e.company_id for e in entries if e.company_id is not None}
    companies = dict(db.session.execute(select(Company.id, Company.name).where(Company.id.in_(company_ids)))
                     .all()) if company_ids else {}
    named = _records_named(entries)
    change_sets = [_export_changes(e.changes or {}) if e.action == "export" else e.changes for e in entries]
    out = []
    labels, kinds = setting_labels | dict(translated(EXPORT_LABELS)), entity_labels()
    for e, lines in zip(entries, described(change_sets, labels=labels, entities=[e.entity for e in entries])):
        subject, link = _subject(e, kinds, companies, named)
        actor = e.user.label if e.user else source_label(e.source)
        if e.user and e.source != "web":
            actor = f"{actor}（{source_label(e.source)}）"
        out.append(LogEntry(e, actor, action_label(e), subject, link, lines))
    return out


def _records_named(entries: list[AuditLog]) -> dict[tuple[str, int], str]:
    """The users, rounds and targets the page's entries are about, by (entity, id): one query for each kind."""
    ids = {kind: {e.entity_id for e in entries if e.entity == kind and e.entity_id is not None}
           for kind in ("user", "round", "target")}
    named: dict[tuple[str, int], str] = {}
    if ids["user"]:
        named |= {("user", i): label for i, label in db.session.execute(
            select(User.id, User.label).where(User.id.in_(ids["user"])))}
    if ids["round"]:
        named |= {("round", i): name for i, name in db.session.execute(
            select(Round.id, Round.name).where(Round.id.in_(ids["round"])))}
    if ids["target"]:
        named |= {("target", i): f"{year} {gettext(METRIC_LABELS[metric])} {area or gettext('全市')}"
                  for i, year, metric, area in db.session.execute(
                      select(Target.id, Target.year, Target.metric, Area.name).outerjoin(Area, Area.id == Target.area_id)
                      .where(Target.id.in_(ids["target"])))}
    return named


SUBJECT_PAGES = {"user": ("users.edit", "user_id"), "round": ("rounds.board", "round_id"), "target": None}


def _subject(e: AuditLog, kinds: dict[str, str], companies: dict[int, str],
             named: dict[tuple[str, int], str]) -> tuple[str, str | None]:
    if e.action == "export":
        listed = (e.changes or {}).get("list")
        return (gettext(LISTS[listed]) if listed in LISTS else gettext("申报名单")), None
    what = kinds.get(e.entity, e.entity)
    if e.company_id is not None:
        if e.company_id not in companies:
            return f"{what} · {gettext('已删除的企业 #%(id)s', id=e.company_id)}", None
        target = (url_for("visits.show", visit_id=e.entity_id) if e.entity == "visit" and e.action != "delete"
                  else url_for("companies.show", company_id=e.company_id))
        return f"{what} · {companies[e.company_id]}", target
    if e.entity in SUBJECT_PAGES and e.entity_id is not None:
        if (e.entity, e.entity_id) not in named:  # deleted since
            return f"{what} · #{e.entity_id}", None
        page = SUBJECT_PAGES[e.entity]
        return (f"{what} · {named[e.entity, e.entity_id]}",
                url_for(page[0], **{page[1]: e.entity_id}) if page else None)
    return what, None


def log_filter(args: Any) -> tuple[LogFilter, list[str]]:
    """The filter as the page's query string gives it, and the dates typed there that could not be read."""
    what = args.get("what", "")
    what = what if what in ENTITIES else ""
    days, unread = {}, []
    for name in ("from", "to"):
        try:
            days[name] = parse_date(args.get(name, ""))
        except InvalidValue:
            days[name] = None
            unread.append(args.get(name))
    f = LogFilter(who=url_int(args.get("who")), what=what, subject=url_int(args.get("subject")) if what else None,
                  start=days["from"], end=days["to"])
    return f, unread

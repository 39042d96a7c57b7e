"""The benchmark's baselines: each measured piece of work done by the plainest code that could do it (issue 8).

A page's baseline fetches the data the page shows — the same rows, the same counts — with hand-written SQL on one
connection and nothing else (no ORM, no templates, no session). Exports, imports and reminders do the same job the
plain way: one SQL query and a csv writer; pandas and executemany INSERTs; a loop over hand-written SQL that sends
one e-mail per recipient through smtplib. Everything here is deliberately Ladder-free except the policy's own data
(the eight 高企 fields, the default lead days) and two pure rules that are not overhead but the work itself (a
certificate's validity window, a reminder's lead window).
"""
import csv
import io
import json
import smtplib
from collections import defaultdict
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from crm.ladder.eligibility import HNTE_FIELDS
from crm.ladder.standing import validity_window
from crm.normalize import name_sort_key
from crm.reminders.engine import DEFAULT_LEADS as LEADS, due_lead

OPEN = "('intent', 'coaching', 'preparing', 'submitted', 'publicised')"


def rows(conn: Connection, sql: str, **params) -> list:
    statement = text(sql)
    expanding = [name for name, value in params.items() if isinstance(value, (list, tuple))]
    if expanding:
        statement = statement.bindparams(*(bindparam(name, expanding=True) for name in expanding))
    return conn.execute(statement, params).fetchall()


def user(conn: Connection, user_id: int) -> list:
    """Who is asking and the areas they are limited to: every page needs it."""
    return rows(conn, 'SELECT * FROM "user" WHERE id = :id', id=user_id) + rows(
        conn, "SELECT a.* FROM user_area ua JOIN area a ON a.id = ua.area_id WHERE ua.user_id = :id", id=user_id)


def areas(conn: Connection) -> list:
    return rows(conn, "SELECT id, kind, code, name FROM area WHERE active = :yes ORDER BY kind, sort, name", yes=True)


def in_force(conn: Connection, company_ids: list[int], on: date) -> list:
    """The certifications that give each company its standing today, and its pool memberships this year."""
    if not company_ids:
        return []
    return rows(conn, "SELECT company_id, kind FROM certification WHERE company_id IN :ids AND status <> 'revoked' "
                      "AND valid_from <= :on AND valid_until >= :on", ids=company_ids, on=on) + rows(
        conn, "SELECT m.company_id FROM pool_member m JOIN pool p ON p.id = m.pool_id "
              "WHERE m.company_id IN :ids AND p.year = :year", ids=company_ids, year=on.year)


# --- pages ------------------------------------------------------------------------------------------------

COMPANY_ROW = ("SELECT c.id, c.name, c.uscc, d.name AS district, p.name AS park, u.display_name AS officer "
               "FROM company c JOIN area d ON d.id = c.district_id LEFT JOIN area p ON p.id = c.park_id "
               'LEFT JOIN "user" u ON u.id = c.officer_id ')


def company_list(conn: Connection, user_id: int, district_id: int, q: str, on: date) -> None:
    """The filtered list: how many match (for the pager), the first page, its standings, the filter choices."""
    user(conn, user_id)
    where = "WHERE c.district_id = :d AND (c.name LIKE :q OR c.uscc LIKE :code) "
    params = {"d": district_id, "q": f"%{q}%", "code": f"{q}%"}
    rows(conn, "SELECT count(*) FROM company c " + where, **params)
    page = rows(conn, COMPANY_ROW + where + "ORDER BY c.name_sort, c.id LIMIT 50", **params)
    in_force(conn, [r.id for r in page], on)
    areas(conn)
    rows(conn, 'SELECT id, username, display_name FROM "user" WHERE role IN (\'admin\', \'officer\') AND active = :yes '
               "ORDER BY username", yes=True)


def company_page(conn: Connection, user_id: int, company_id: int, on: date) -> None:
    """One company: details, certifications, figures, pools, visits and follow-ups, applications, annual reports,
    and the timeline's latest entries of each kind (its first page of 20, and whether there is more)."""
    user(conn, user_id)
    cid = {"id": company_id}
    rows(conn, COMPANY_ROW.replace("SELECT ", "SELECT c.*, ", 1) + "WHERE c.id = :id", **cid)
    rows(conn, "SELECT * FROM certification WHERE company_id = :id ORDER BY valid_from", **cid)
    rows(conn, "SELECT * FROM company_year WHERE company_id = :id ORDER BY year", **cid)
    rows(conn, "SELECT value FROM setting WHERE \"key\" = 'gazelle'")
    rows(conn, "SELECT p.* FROM pool p JOIN pool_member m ON m.pool_id = p.id WHERE m.company_id = :id", **cid)
    rows(conn, "SELECT * FROM pool WHERE year = :year ORDER BY kind, name", year=on.year)
    rows(conn, "SELECT max(visited_on) FROM visit WHERE company_id = :id", **cid)
    rows(conn, 'SELECT f.*, u.display_name FROM follow_up f LEFT JOIN "user" u ON u.id = f.owner_id '
               "WHERE f.company_id = :id ORDER BY f.due_on DESC, f.id DESC LIMIT 21", **cid)
    rows(conn, "SELECT a.*, r.name, r.kind, r.closes_on, u.display_name FROM application a "
               'JOIN round r ON r.id = a.round_id LEFT JOIN "user" u ON u.id = a.officer_id WHERE a.company_id = :id '
               "ORDER BY a.created_at DESC", **cid)
    rows(conn, "SELECT * FROM round WHERE closes_on >= :on ORDER BY closes_on", on=on)
    rows(conn, "SELECT * FROM annual_report WHERE company_id = :id", **cid)
    visits = rows(conn, "SELECT * FROM visit WHERE company_id = :id ORDER BY visited_on DESC, id DESC LIMIT 21", **cid)
    ids = [v.id for v in visits] or [0]
    rows(conn, 'SELECT vo.visit_id, u.display_name FROM visit_officer vo JOIN "user" u ON u.id = vo.user_id '
               "WHERE vo.visit_id IN :ids", ids=ids)
    rows(conn, "SELECT vn.visit_id, n.name FROM visit_need vn JOIN need_category n ON n.id = vn.category_id "
               "WHERE vn.visit_id IN :ids", ids=ids)
    rows(conn, "SELECT m.*, r.name, u.display_name FROM application_move m "
               "JOIN application a ON a.id = m.application_id JOIN round r ON r.id = a.round_id "
               'LEFT JOIN "user" u ON u.id = m.moved_by_id WHERE a.company_id = :id ORDER BY m.moved_at DESC LIMIT 21',
         **cid)
    rows(conn, 'SELECT l.*, u.display_name FROM audit_log l LEFT JOIN "user" u ON u.id = l.user_id '
               "WHERE l.company_id = :id ORDER BY l.at DESC, l.id DESC LIMIT 21", **cid)


def _held(kind: str, condition: str) -> str:
    return (f"c.id IN (SELECT x.company_id FROM certification x WHERE x.kind = '{kind}' AND x.status <> 'revoked' "
            f"AND {condition})")


def _earlier(kind: str, condition: str) -> str:
    return (f"EXISTS (SELECT 1 FROM certification e WHERE e.company_id = x.company_id AND e.kind = '{kind}' "
            f"AND e.status <> 'revoked' AND {condition})")


# DOMAIN §5, written out by hand: a condition on company c with :year, :first_day and :as_of.
ISSUED_BY = "COALESCE(x.issued_on, x.valid_from) <= :as_of"
METRICS = {
    "hnte_valid": _held("hnte", "x.valid_from <= :as_of AND x.valid_until >= :as_of"),
    "hnte_new": _held("hnte", "x.valid_from BETWEEN :first_day AND :as_of AND NOT "
                      + _earlier("hnte", "e.valid_from < x.valid_from")),
    "hnte_renewed": _held("hnte", "x.valid_from BETWEEN :first_day AND :as_of AND "
                          + _earlier("hnte", "e.valid_from < x.valid_from")),
    "tech_sme_registered": _held("tech_sme", f"x.year = :year AND {ISSUED_BY}"),
    "tech_sme_new": _held("tech_sme", f"x.year = :year AND {ISSUED_BY} AND NOT "
                          + _earlier("tech_sme", "e.year + 0 < :year")),
    "gazelle_new": _held("gazelle", f"x.year = :year AND {ISSUED_BY}"),
}
KIND_OF = {"hnte_valid": "hnte", "hnte_new": "hnte", "hnte_renewed": "hnte", "tech_sme_registered": "tech_sme",
           "tech_sme_new": "tech_sme", "gazelle_new": "gazelle"}


def _open_application(kind: str) -> str:
    return (f"c.id IN (SELECT a.company_id FROM application a JOIN round r ON r.id = a.round_id "
            f"WHERE r.kind = '{kind}' AND r.year = :year AND a.stage IN {OPEN})")


def _projection(metric: str) -> str:
    """Open applications this year whose approval would add to the metric (the dashboard's "在途")."""
    condition = f"{_open_application(KIND_OF[metric])} AND NOT {METRICS[metric]}"
    if metric in ("hnte_new", "hnte_renewed"):
        certified = _held("hnte", "x.valid_from <= :as_of")
        condition += f" AND {certified}" if metric == "hnte_renewed" else f" AND NOT {certified}"
    if metric == "tech_sme_new":
        condition += " AND NOT " + _held("tech_sme", "x.year < :year")
    return condition


def _sums(conditions: dict[str, str]) -> str:
    return ", ".join(f"sum(CASE WHEN {c} THEN 1 ELSE 0 END) AS {name}" for name, c in conditions.items())


def metric_counts(conn: Connection, year: int, as_of: date, extra: dict[str, str] | None = None) -> list:
    """Every metric for every (district, park) group in one GROUP BY: the city and area totals add up from it."""
    return rows(conn, f"SELECT c.district_id, c.park_id, {_sums({**METRICS, **(extra or {})})} FROM company c "
                      "GROUP BY c.district_id, c.park_id",
                year=year, first_day=date(year, 1, 1), as_of=as_of, start=date(year - 1, 12, 31))


def targets_progress(conn: Connection, year: int, as_of: date) -> None:
    metric_counts(conn, year, as_of)
    rows(conn, "SELECT metric, area_id, value FROM target WHERE year = :year", year=year)


def month_ends(year: int, until: date) -> list[date]:
    ends = []
    for month in range(1, 13):
        first = date(year, month, 1)
        if first > until:
            break
        ends.append(min(date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1), until))
    return ends


def dashboard(conn: Connection, user_id: int, year: int, as_of: date) -> None:
    """The board (metrics, their open applications, last year's level), targets, rounds, last year's pass rates,
    the 有效高企数 month by month for two years, and the three risk lists (first ten and how many)."""
    user(conn, user_id)
    areas(conn)
    extra = {f"open_{m}": _projection(m) for m in METRICS}
    extra["start"] = _held("hnte", "x.valid_from <= :start AND x.valid_until >= :start")
    metric_counts(conn, year, as_of, extra)
    rows(conn, "SELECT metric, area_id, value FROM target WHERE year = :year", year=year)
    rows(conn, "SELECT kind, closes_on FROM round WHERE year = :year", year=year)
    rows(conn, "SELECT r.kind, sum(CASE WHEN a.stage = 'approved' THEN 1 ELSE 0 END), "
               "sum(CASE WHEN a.stage IN ('approved', 'rejected') THEN 1 ELSE 0 END) "
               "FROM application a JOIN round r ON r.id = a.round_id WHERE r.year = :year GROUP BY r.kind",
         year=year - 1)
    points = month_ends(year, as_of) + month_ends(year - 1, date(year - 1, 12, 31))
    counts = ", ".join(f"count(DISTINCT CASE WHEN valid_from <= :d{i} AND valid_until >= :d{i} THEN company_id END)"
                       for i in range(len(points)))
    rows(conn, f"SELECT {counts} FROM certification WHERE kind = 'hnte' AND status <> 'revoked'",
         **{f"d{i}": d for i, d in enumerate(points)})
    risks = [
        _held("hnte", "x.valid_until BETWEEN :jan1 AND :dec31 AND NOT EXISTS (SELECT 1 FROM certification l "
                      "WHERE l.company_id = x.company_id AND l.kind = 'hnte' AND l.status <> 'revoked' "
                      "AND l.valid_from > x.valid_from AND l.valid_from <= :as_of)")
        + " AND c.id NOT IN (SELECT a.company_id FROM application a JOIN round r ON r.id = a.round_id "
          f"WHERE r.kind = 'hnte' AND a.stage IN {OPEN})",
        _held("hnte", "x.valid_from <= :start AND x.valid_until >= :start")
        + " AND c.id NOT IN (SELECT company_id FROM annual_report WHERE year = :year - 1)"
        if as_of > date(year, 5, 31) else "1 = 0",
        _held("tech_sme", "x.year = :year - 1") + " AND NOT "
        + _held("tech_sme", f"x.year = :year AND {ISSUED_BY}"),
    ]
    for condition in risks:
        rows(conn, COMPANY_ROW.replace("SELECT ", "SELECT count(*) OVER () AS total, ", 1)
             + f"WHERE {condition} ORDER BY c.name_sort, c.id LIMIT 10",
             year=year, as_of=as_of, start=date(year - 1, 12, 31), jan1=date(year, 1, 1), dec31=date(year, 12, 31))


def kanban(conn: Connection, user_id: int, round_id: int, cap: int) -> None:
    """A round's board: how many cards per stage, the first `cap` of each (longest waiting first), the filters."""
    user(conn, user_id)
    rows(conn, "SELECT * FROM round WHERE id = :r", r=round_id)
    rows(conn, "SELECT stage, count(*) FROM application WHERE round_id = :r GROUP BY stage", r=round_id)
    closed = "a.stage IN ('approved', 'rejected', 'withdrawn')"
    rows(conn, "SELECT a.id, a.stage, a.stage_since, a.reason, c.id, c.name, u.display_name "
               "FROM (SELECT a.id, row_number() OVER (PARTITION BY a.stage ORDER BY "
               f"CASE WHEN {closed} THEN NULL ELSE a.stage_since END, CASE WHEN {closed} THEN a.stage_since END DESC, "
               "a.id) AS rank FROM application a WHERE a.round_id = :r) ranked "
               "JOIN application a ON a.id = ranked.id JOIN company c ON c.id = a.company_id "
               'LEFT JOIN "user" u ON u.id = a.officer_id WHERE ranked.rank <= :cap ORDER BY ranked.rank',
         r=round_id, cap=cap)
    areas(conn)
    rows(conn, 'SELECT id, username, display_name FROM "user" WHERE id IN '
               "(SELECT officer_id FROM application WHERE round_id = :r) ORDER BY username", r=round_id)


def setting(conn: Connection, key: str, default):
    found = rows(conn, "SELECT value FROM setting WHERE \"key\" = :key", key=key)
    return json.loads(found[0][0]) if found and isinstance(found[0][0], str) else (found[0][0] if found else default)


def my_work(conn: Connection, user_id: int, on: date, utc_midnight) -> None:
    """An officer's home: overdue and upcoming follow-ups, how many later, the companies not visited for too long
    (first hundred and how many), and deadlines of the next 60 days."""
    me = user(conn, user_id)
    area_ids = [r.id for r in me[1:]] or [0]
    scope = "(c.district_id IN :areas OR c.park_id IN :areas)"
    follow_ups = ("SELECT f.id, f.title, f.due_on, c.id, c.name, d.name FROM follow_up f "
                  "JOIN company c ON c.id = f.company_id JOIN area d ON d.id = c.district_id "
                  f"WHERE {scope} AND f.owner_id = :me AND f.done_at IS NULL ")
    mine = {"areas": area_ids, "me": user_id}
    rows(conn, follow_ups + "AND f.due_on < :on ORDER BY f.due_on, f.id LIMIT 100", on=on, **mine)
    horizon = on + timedelta(days=30)
    rows(conn, follow_ups + "AND f.due_on BETWEEN :on AND :h ORDER BY f.due_on, f.id LIMIT 100",
         on=on, h=horizon, **mine)
    rows(conn, f"SELECT count(*) FROM follow_up f JOIN company c ON c.id = f.company_id WHERE {scope} "
               "AND f.owner_id = :me AND f.done_at IS NULL AND f.due_on > :h", h=horizon, **mine)
    days = setting(conn, "visit_staleness", {"pooled": 90, "default": 180})
    pooled = ("EXISTS (SELECT 1 FROM pool_member m JOIN pool p ON p.id = m.pool_id "
              "WHERE m.company_id = c.id AND p.year = :year)")
    companies = ("SELECT c.id, c.name, c.created_at, (SELECT max(v.visited_on) FROM visit v WHERE v.company_id = c.id) "
                 f"AS last_on, {pooled} AS pooled FROM company c WHERE {scope} AND c.officer_id = :me")
    stale = (f"FROM ({companies}) s WHERE CASE WHEN s.last_on IS NULL "
             "THEN s.created_at < CASE WHEN s.pooled THEN :pooled_created ELSE :created END "
             "ELSE s.last_on <= CASE WHEN s.pooled THEN :pooled_cutoff ELSE :cutoff END END")
    cutoffs = {"year": on.year, "pooled_cutoff": on - timedelta(days=min(days["pooled"], days["default"])),
               "cutoff": on - timedelta(days=days["default"]),
               "pooled_created": utc_midnight(on - timedelta(days=min(days["pooled"], days["default"]) - 1)),
               "created": utc_midnight(on - timedelta(days=days["default"] - 1))}
    rows(conn, "SELECT count(*) " + stale, **cutoffs, **mine)
    rows(conn, "SELECT s.* " + stale + " ORDER BY s.last_on IS NOT NULL, s.last_on, s.created_at, s.id LIMIT 100",
         **cutoffs, **mine)
    until = on + timedelta(days=60)
    rows(conn, "SELECT x.id, x.valid_until, c.id, c.name FROM certification x JOIN company c ON c.id = x.company_id "
               "WHERE c.officer_id = :me AND x.kind = 'hnte' AND x.status <> 'revoked' "
               "AND x.valid_until BETWEEN :on AND :until", me=user_id, on=on, until=until)
    rows(conn, "SELECT a.id, a.stage, r.name, r.closes_on, c.name FROM application a JOIN round r ON r.id = a.round_id "
               "JOIN company c ON c.id = a.company_id WHERE (a.officer_id = :me OR c.officer_id = :me) "
               f"AND a.stage IN {OPEN} AND r.closes_on BETWEEN :on AND :until", me=user_id, on=on, until=until)
    rows(conn, "SELECT f.id, f.title, f.due_on, c.name FROM follow_up f JOIN company c ON c.id = f.company_id "
               "WHERE (f.owner_id = :me OR c.officer_id = :me) AND f.done_at IS NULL "
               "AND f.due_on BETWEEN :on AND :until",
         me=user_id, on=on, until=until)


# --- export, import, reminders ------------------------------------------------------------------------------

def shortlist_csv(conn: Connection, year: int, on: date, path: Path) -> int:
    """The 高企 shortlist as one SQL query (not holding 高企 through the year; applying, pooled, or passing the
    conditions the figures decide — §3.1 items 1–6) written by a csv writer."""
    fy, first = year - 1, year - 3
    listed = rows(conn, """
        SELECT c.uscc, c.name, d.name, p.name, u.display_name, c.founded_on, c.tech_field,
               y.employees, y.tech_staff, y.revenue, y.rd_expense, y.high_tech_revenue, y.ip_class1, y.ip_class2
        FROM company c JOIN area d ON d.id = c.district_id LEFT JOIN area p ON p.id = c.park_id
        LEFT JOIN "user" u ON u.id = c.officer_id
        LEFT JOIN company_year y ON y.company_id = c.id AND y.year = :fy
        LEFT JOIN (SELECT company_id, sum(rd_expense) AS rd, sum(rd_domestic) AS dom, sum(revenue) AS rev
                   FROM company_year WHERE year BETWEEN :first AND :fy GROUP BY company_id) t ON t.company_id = c.id
        WHERE NOT EXISTS (SELECT 1 FROM certification x WHERE x.company_id = c.id AND x.kind = 'hnte'
                          AND x.status <> 'revoked' AND x.valid_from <= :dec31 AND x.valid_until >= :dec31)
          AND (c.id IN (SELECT a.company_id FROM application a JOIN round r ON r.id = a.round_id
                        WHERE r.kind = 'hnte' AND r.year = :year AND a.stage NOT IN ('rejected', 'withdrawn'))
               OR c.id IN (SELECT m.company_id FROM pool_member m JOIN pool pl ON pl.id = m.pool_id
                           WHERE pl.kind = 'hnte' AND pl.year = :year)
               OR (c.founded_on <= :registered AND c.tech_field IN :fields AND y.ip_class1 + y.ip_class2 >= 1
                   AND y.tech_staff * 10 >= y.employees AND y.high_tech_revenue * 10 >= y.revenue * 6
                   AND t.dom * 10 >= t.rd * 6
                   AND t.rd * 100 >= t.rev * CASE WHEN y.revenue <= 5000 THEN 5
                                                  WHEN y.revenue <= 20000 THEN 4 ELSE 3 END))
        ORDER BY d.code, c.name, c.id""",
                  fy=fy, first=first, year=year, dec31=date(year, 12, 31), registered=on - timedelta(days=365),
                  fields=list(HNTE_FIELDS))
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["统一社会信用代码", "企业名称", "所属区县", "所在园区", "包联干部", "成立日期", "技术领域", "职工总数",
                         "科技人员数", "营业收入（万元）", "研发费用（万元）", "高新技术产品收入（万元）", "Ⅰ类知识产权数", "Ⅱ类知识产权数"])
        writer.writerows(listed)
    return len(listed)


def _day(value) -> date | None:
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text_ = str(value)
    return datetime.strptime(text_, "%Y年%m月%d日" if "年" in text_ else "%Y-%m-%d").date()


def _value(value):
    return None if value is None or value == "" or (isinstance(value, float) and pd.isna(value)) else value


def import_workbook(conn: Connection, data: bytes, now: datetime) -> int:
    """pandas reads the three sheets; one executemany INSERT per sheet writes them (companies first, for their ids)."""
    sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=object, engine="calamine")
    companies, certs, figures = sheets["企业"], sheets["资质"], sheets["年度数据"]
    district_ids = {name: id_ for id_, name in rows(conn, "SELECT id, name FROM area WHERE kind = 'district'")}
    conn.execute(text(
        "INSERT INTO company (uscc, name, name_sort, district_id, industry, founded_on, contact_name, contact_phone, "
        "contact_email, notes, uscc_check_waived, version, created_at, updated_at) VALUES (:uscc, :name, :name_sort, "
        ":district_id, :industry, :founded_on, :contact_name, :contact_phone, '', '', :no, 1, :now, :now)"),
        [{"uscc": r["统一社会信用代码"], "name": r["企业名称"], "name_sort": name_sort_key(r["企业名称"]),
          "district_id": district_ids[r["所属区县"]],
          "industry": r["产业领域"], "founded_on": _day(r["成立日期"]), "contact_name": r["联系人"],
          "contact_phone": str(r["联系电话"]), "no": False, "now": now} for r in companies.to_dict("records")])
    ids = dict(rows(conn, "SELECT uscc, id FROM company WHERE uscc IN :codes", codes=list(companies["统一社会信用代码"])))
    kinds = {"科技型中小企业": "tech_sme", "高新技术企业": "hnte", "瞪羚企业": "gazelle"}
    cert_rows = []
    for r in certs.to_dict("records"):
        kind, year, issued = kinds[r["资质类型"]], _value(r["年度"]), _day(r["发证日期"])
        year = int(year) if year is not None else None
        start, end = validity_window(kind, year, issued, None)
        cert_rows.append({"company_id": ids[r["统一社会信用代码"]], "kind": kind, "number": r["编号"], "year": year,
                          "issued_on": issued, "valid_from": start, "valid_until": end, "now": now})
    conn.execute(text("INSERT INTO certification (company_id, kind, number, year, issued_on, status, valid_from, "
                      "valid_until, source, created_at) VALUES (:company_id, :kind, :number, :year, :issued_on, "
                      "'valid', :valid_from, :valid_until, 'import', :now)"), cert_rows)
    names = {"年度": "year", "职工总数": "employees", "科技人员数": "tech_staff", "营业收入（万元）": "revenue",
             "研发费用（万元）": "rd_expense", "境内研发费用（万元）": "rd_domestic", "成本费用总额（万元）": "total_cost",
             "资产总额（万元）": "total_assets", "净资产（万元）": "net_assets", "高新技术产品收入（万元）": "high_tech_revenue",
             "Ⅰ类知识产权数": "ip_class1", "Ⅱ类知识产权数": "ip_class2"}
    figure_rows = [{"company_id": ids[r["统一社会信用代码"]], "now": now, **{k: _value(r[h]) for h, k in names.items()}}
                   for r in figures.to_dict("records")]
    conn.execute(text(f"INSERT INTO company_year (company_id, updated_at, {', '.join(names.values())}) "
                      f"VALUES (:company_id, :now, {', '.join(':' + k for k in names.values())})"), figure_rows)
    conn.commit()
    return len(ids)


def reminders(conn: Connection, day: date, host: str, port: int) -> int:
    """The plainest daily reminder loop: what is due in each lead window by hand-written SQL (§6 suppressions),
    one e-mail per recipient through one SMTP session, the items recorded as sent in one executemany."""
    horizon = {kind: day + timedelta(days=max(leads)) for kind, leads in LEADS.items()}
    officer = 'CASE WHEN u.active THEN c.officer_id END'
    due = []  # (kind, subject, due date, recipient, company id, company name, text)
    for r in rows(conn, f"""SELECT x.id, x.number, x.valid_until, c.id, c.name, {officer} FROM certification x
                            JOIN company c ON c.id = x.company_id LEFT JOIN "user" u ON u.id = c.officer_id
                            WHERE x.kind = 'hnte' AND x.status <> 'revoked' AND x.valid_until BETWEEN :day AND :until
                              AND NOT EXISTS (SELECT 1 FROM certification l WHERE l.company_id = x.company_id
                                  AND l.kind = 'hnte' AND l.status <> 'revoked' AND l.issued_on > x.issued_on)""",
                  day=day, until=horizon["hnte_expiry"]):
        due.append(("hnte_expiry", f"cert:{r[0]}", r[2], r[5], r[3], r[4], f"高企证书 {r[1]} 将于 {r[2]} 到期"))
    report_due = date(day.year, 5, 31)
    if day <= report_due <= horizon["hnte_annual_report"]:
        for r in rows(conn, f"""SELECT c.id, c.name, {officer} FROM company c LEFT JOIN "user" u ON u.id = c.officer_id
                                WHERE {_held('hnte', 'x.valid_from <= :dec31 AND x.valid_until >= :dec31')}
                                  AND c.id NOT IN (SELECT company_id FROM annual_report WHERE year = :fy)""",
                      dec31=date(day.year - 1, 12, 31), fy=day.year - 1):
            due.append(("hnte_annual_report", f"company:{r[0]}:report:{day.year - 1}", report_due, r[2], r[0], r[1],
                         f"{day.year - 1} 年度高企发展情况报表尚未填报"))
    for rd in rows(conn, "SELECT id, name, year, closes_on FROM round WHERE kind = 'tech_sme' "
                         "AND closes_on BETWEEN :day AND :until", day=day, until=horizon["tech_sme_renewal"]):
        for r in rows(conn, f"""SELECT c.id, c.name, {officer} FROM company c LEFT JOIN "user" u ON u.id = c.officer_id
                                WHERE (c.id IN (SELECT company_id FROM certification WHERE kind = 'tech_sme'
                                                AND status <> 'revoked' AND year = :year - 1)
                                       OR c.id IN (SELECT m.company_id FROM pool_member m
                                                   JOIN pool p ON p.id = m.pool_id
                                                   WHERE p.kind = 'tech_sme' AND p.year = :year))
                                  AND c.id NOT IN (SELECT company_id FROM certification
                                                   WHERE kind = 'tech_sme' AND year = :year)
                                  AND c.id NOT IN (SELECT company_id FROM application WHERE round_id = :round
                                                   AND stage IN ('submitted', 'publicised', 'approved', 'rejected'))""",
                      year=rd.year, round=rd.id):
            due.append(("tech_sme_renewal", f"company:{r[0]}:round:{rd.id}", rd.closes_on, r[2], r[0], r[1],
                         f"{rd.name} 尚未提交入库申请"))
    for r in rows(conn, f"""SELECT a.id, rd.name, rd.closes_on, c.id, c.name,
                                   COALESCE(CASE WHEN au.active THEN a.officer_id END, {officer}) FROM application a
                            JOIN round rd ON rd.id = a.round_id JOIN company c ON c.id = a.company_id
                            LEFT JOIN "user" u ON u.id = c.officer_id LEFT JOIN "user" au ON au.id = a.officer_id
                            WHERE a.stage IN ('intent', 'coaching', 'preparing')
                              AND rd.closes_on BETWEEN :day AND :until""",
                  day=day, until=horizon["round_deadline"]):
        due.append(("round_deadline", f"application:{r[0]}", r[2], r[5], r[3], r[4], f"申报批次「{r[1]}」将于 {r[2]} 截止"))
    for r in rows(conn, f"""SELECT f.id, f.title, f.due_on, c.id, c.name,
                                   COALESCE(CASE WHEN fu.active THEN f.owner_id END, {officer}) FROM follow_up f
                            JOIN company c ON c.id = f.company_id LEFT JOIN "user" u ON u.id = c.officer_id
                            LEFT JOIN "user" fu ON fu.id = f.owner_id
                            WHERE f.done_at IS NULL AND f.due_on BETWEEN :day AND :until""",
                  day=day, until=horizon["follow_up_due"]):
        due.append(("follow_up_due", f"follow_up:{r[0]}", r[2], r[5], r[3], r[4], f"跟进事项「{r[1]}」于 {r[2]} 到期"))

    users = {r[0]: r for r in rows(conn, 'SELECT id, email, role, active FROM "user" WHERE active = :yes', yes=True)}
    admins = [uid for uid, r in users.items() if r[2] == "admin"]
    by_recipient, items = defaultdict(list), []
    for kind, subject, due_on, recipient, company_id, name, what in due:
        due_on = due_on if isinstance(due_on, date) else date.fromisoformat(due_on)  # SQLite gives text
        lead = due_lead(due_on, LEADS[kind], day)
        key = f"{kind}|{subject}|{due_on.isoformat()}|{lead}"
        for uid in ([recipient] if recipient in users else admins):
            by_recipient[uid].append(f"{due_on} {name}：{what}")
            items.append({"key": f"{key}|{uid}", "kind": kind, "subject_key": subject, "company_id": company_id,
                          "recipient_id": uid, "due_on": due_on, "lead": lead, "text": what, "fired_on": day})
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        for uid, lines in by_recipient.items():
            message = EmailMessage()
            message["Subject"] = f"到期提醒：{len(lines)} 项"
            message["From"], message["To"] = "ladder@localhost", users[uid][1]
            message.set_content("\n".join(lines))
            smtp.send_message(message)
    if items:
        conn.execute(text('INSERT INTO reminder_item ("key", kind, subject_key, company_id, recipient_id, to_admins, '
                          "due_on, lead, text, fired_on, status) VALUES (:key, :kind, :subject_key, :company_id, "
                          ":recipient_id, :no, :due_on, :lead, :text, :fired_on, 'sent')"),
                     [{**i, "no": False} for i in items])
    conn.commit()
    return len(by_recipient)

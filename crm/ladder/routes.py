"""The ladder on screen: the company page's eligibility panel, cultivation pools and shortlists."""
import math
import re
from dataclasses import dataclass

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import bindparam, func, select

from crm.access import admin_required, area_or_404, company_scope, editor_required, get_company_or_404, usable_areas
from crm.areas import all_areas
from crm.audit import record
from crm.auth.service import safe_next
from crm.clock import today
from crm.companies.panels import register_panel
from crm.companies.routes import back_to_list, officer_choices, ticked_or_filtered
from crm.downloads import attachment
from crm.extensions import db
from crm.i18n import translated
from crm.ladder.forms import PoolForm
from crm.ladder.pools import PoolError, add_members, delete_pool, members_query, pools_with_counts, \
    remove_member, save_pool
from crm.ladder.queries import standings_for
from crm.ladder.service import CHECK_LABELS, VERDICT_LABELS, application_date, check_kind, eligibility_for, \
    gazelle_params, load_facts, verdict
from crm.ladder.shortlist import ELIGIBLE, POOLED, REASON_LABELS, ShortlistFilter, columns, shortlist, table_rows, \
    title
from crm.models import Company, Pool
from crm.models.certification import KINDS, TECH_SME
from crm.normalize import url_int
from crm.rounds.service import applying_among, round_closing_next, rounds_taking_applications
from crm.transfer.spreadsheet import table_bytes

bp = Blueprint("ladder", __name__)
FIGURE_YEAR = re.compile(r"^(\d{4})年")


def _year(value, default: int) -> int:
    year = url_int(value)
    return year if year is not None and 2000 <= year <= 2100 else default


def _year_choices(around: int) -> list[int]:
    this = today().year
    return sorted({this - 2, this - 1, this, this + 1, around}, reverse=True)


@dataclass
class ListPage:
    """A page of an already computed list, shaped like Flask-SQLAlchemy's Pagination for the pager macro."""
    items: list
    page: int
    per_page: int
    total: int

    pages = property(lambda self: max(1, math.ceil(self.total / self.per_page)))
    has_prev = property(lambda self: self.page > 1)
    has_next = property(lambda self: self.page < self.pages)
    prev_num = property(lambda self: self.page - 1)
    next_num = property(lambda self: self.page + 1)


def paginate_list(rows: list, page: int | None) -> ListPage:
    per_page = current_app.config["PAGE_SIZE"]
    page = min(max(page or 1, 1), max(1, math.ceil(len(rows) / per_page)))
    return ListPage(rows[(page - 1) * per_page: page * per_page], page, per_page, len(rows))


def figure_gaps(missing: list[str]) -> tuple[list[int], list[str]]:
    """Missing figures split into the fiscal years to fill in and the declarations to complete."""
    years = sorted({int(m[1]) for item in missing if (m := FIGURE_YEAR.match(item))}, reverse=True)
    return years, [item for item in missing if not FIGURE_YEAR.match(item)]


# ---- company page panel --------------------------------------------------------------------------------------

# Built once, run with parameters: SQLAlchemy would build and hash it again on every page view.
POOLS_OF_YEAR = select(Pool).where(Pool.year == bindparam("year")).order_by(Pool.kind, Pool.name)


def eligibility_panel(company: Company, on) -> dict:
    year = _year(request.args.get("year"), on.year)
    e = eligibility_for(company, year, on)
    memberships = company.pools
    member_ids = {p.id for p in memberships}
    open_pools = [p for p in db.session.scalars(POOLS_OF_YEAR, {"year": year}) if p.id not in member_ids]
    kinds = e.kinds_to_climb(company.certifications)
    return {"position": "top", "e": e, "kinds": kinds, "years": _year_choices(year),
            "gaps": {k: figure_gaps(e.results[k].missing_figures) for k, _renewal in kinds},
            "verdicts": {k: verdict(e.results[k]) for k, _renewal in kinds},
            "verdict_labels": translated(VERDICT_LABELS), "memberships": memberships, "open_pools": open_pools}


register_panel(order=10, template="ladder/_company_panel.html", context=eligibility_panel)


# ---- shortlists ------------------------------------------------------------------------------------------------

def _shortlist_filter(args) -> ShortlistFilter:
    """The shortlist asked for; without a kind, that of the round taking applications that closes first (科小 if
    none)."""
    kind, year = TECH_SME, today().year
    if args.get("kind") in KINDS:
        kind = args["kind"]
    elif (next_round := round_closing_next(today())) is not None:
        kind, year = next_round.kind, next_round.year
    officer = args.get("officer", "")
    return ShortlistFilter(kind=kind, year=_year(args.get("year"), year), scope=company_scope(current_user),
                           area_id=area_or_404(url_int(args.get("area"))),
                           officer_id=url_int(officer) if officer != "" else None)


@bp.route("/shortlists/")
def shortlist_page():
    f = _shortlist_filter(request.args)
    on = today()
    page = paginate_list(shortlist(f, on), url_int(request.args.get("page")))
    standings = standings_for([r.company_id for r in page.items], on)
    return render_template(
        "ladder/shortlist.html", f=f, page=page, standings=standings, kinds=KINDS, years=_year_choices(f.year),
        areas=usable_areas(current_user, all_areas()), officers=officer_choices(),
        reason_labels=translated(REASON_LABELS), verdict_labels=translated(VERDICT_LABELS),
    )


@bp.route("/shortlists/export", methods=["POST"])
def shortlist_export():
    f = _shortlist_filter(request.form)
    fmt = "csv" if request.form.get("format") == "csv" else "xlsx"
    on = today()
    rows = shortlist(f, on)
    data, mime = table_bytes(fmt, columns(f.kind), table_rows(rows, on), title(f.kind, f.year))
    record("shortlist", None, None, "export", {"kind": f.kind, "year": f.year, "area_id": f.area_id,
                                               "officer_id": f.officer_id, "format": fmt, "rows": len(rows)})
    db.session.commit()
    return attachment(data, mime, f"{title(f.kind, f.year)}.{fmt}", f"shortlist-{f.kind}-{f.year}.{fmt}")


# ---- pools -----------------------------------------------------------------------------------------------------

def _pool_or_404(pool_id: int) -> Pool:
    return db.get_or_404(Pool, pool_id)


@bp.route("/pools/")
def pools():
    year = url_int(request.args.get("year"))
    form = PoolForm(year=today().year)
    return render_template("ladder/pools.html", pools=pools_with_counts(company_scope(current_user), year),
                           year=year, years=_year_choices(today().year), form=form)


def _saved(form: PoolForm, pool: Pool) -> bool:
    if not form.validate_on_submit():
        return False
    try:
        save_pool(pool, form.kind.data, form.year.data, form.name.data)
    except PoolError as exc:
        form.name.errors.append(str(exc))
        return False
    db.session.commit()
    flash(_("已保存培育库“%(name)s”。", name=pool.name), "success")
    return True


@bp.route("/pools/new", methods=["POST"])
@admin_required
def pool_new():
    form, pool = PoolForm(), Pool()
    if _saved(form, pool):
        return redirect(url_for("ladder.pool", pool_id=pool.id))
    return render_template("ladder/pools.html", pools=pools_with_counts(company_scope(current_user)), year=None,
                           years=_year_choices(today().year), form=form), 422


@bp.route("/pools/<int:pool_id>/edit", methods=["GET", "POST"])
@admin_required
def pool_edit(pool_id: int):
    pool = _pool_or_404(pool_id)
    form = PoolForm(obj=pool)
    if _saved(form, pool):
        return redirect(url_for("ladder.pool", pool_id=pool.id))
    return render_template("ladder/pool_form.html", form=form, pool=pool), 200 if request.method == "GET" else 422


@bp.route("/pools/<int:pool_id>/delete", methods=["POST"])
@admin_required
def pool_delete(pool_id: int):
    pool = _pool_or_404(pool_id)
    name = pool.name
    delete_pool(pool)
    db.session.commit()
    flash(_("已删除培育库“%(name)s”。", name=name), "success")
    return redirect(url_for("ladder.pools"))


@bp.route("/pools/<int:pool_id>")
def pool(pool_id: int):
    pool = _pool_or_404(pool_id)
    on = today()
    page = db.paginate(members_query(pool, company_scope(current_user)), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False)
    check_on, params = application_date(pool.year, on), gazelle_params()
    facts = load_facts(page.items, pool.year, check_on, params)
    results = {c.id: check_kind(pool.kind, facts[c.id], pool.year, check_on, params) for c in page.items}
    rounds = rounds_taking_applications(pool.kind, pool.year, on) if current_user.can_edit else []
    applying = applying_among([c.id for c in page.items], pool.kind, pool.year) if rounds else set()
    return render_template("ladder/pool.html", pool=pool, page=page, results=results, rounds=rounds, applying=applying,
                           standings=standings_for([c.id for c in page.items], on),
                           verdicts={cid: verdict(r) for cid, r in results.items()},
                           verdict_labels=translated(VERDICT_LABELS), check_labels=translated(CHECK_LABELS))


@bp.route("/pools/<int:pool_id>/suggest")
def pool_suggest(pool_id: int):
    """Companies whose figures pass the pool's kind for its year and that are in no pool of that kind and year."""
    pool = _pool_or_404(pool_id)
    f = ShortlistFilter(kind=pool.kind, year=pool.year, scope=company_scope(current_user))
    rows = [r for r in shortlist(f, today()) if ELIGIBLE in r.reasons and POOLED not in r.reasons]
    page = paginate_list(rows, url_int(request.args.get("page")))
    return render_template("ladder/suggest.html", pool=pool, page=page, reason_labels=translated(REASON_LABELS),
                           verdict_labels=translated(VERDICT_LABELS))


def _back(default: str):
    return redirect(safe_next(request.form.get("next") or request.args.get("next")) or default)


@bp.route("/pools/members", methods=["POST"])
@editor_required
def pool_add():
    """Add one company (pool_id, company_id posted) from the company page or the suggest view."""
    pool = _pool_or_404(url_int(request.form.get("pool_id")) or 0)
    company = get_company_or_404(url_int(request.form.get("company_id")) or 0)
    if add_members(pool, select(Company.id).where(Company.id == company.id), current_user.id):
        flash(_("已将 %(company)s 加入 %(pool)s。", company=company.name, pool=pool.name), "success")
    db.session.commit()
    return _back(url_for("ladder.pool", pool_id=pool.id))


@bp.route("/pools/<int:pool_id>/members/<int:company_id>/remove", methods=["POST"])
@editor_required
def pool_remove(pool_id: int, company_id: int):
    pool = _pool_or_404(pool_id)
    company = get_company_or_404(company_id)
    if remove_member(pool, company.id):
        flash(_("已将 %(company)s 移出 %(pool)s。", company=company.name, pool=pool.name), "success")
    db.session.commit()
    return _back(url_for("ladder.pool", pool_id=pool.id))


@bp.route("/pools/bulk", methods=["POST"])
@editor_required
def pool_bulk():
    """Add the companies ticked on the company list, or all that match its filter, to a pool chosen here."""
    chosen, every = ticked_or_filtered(request.form)
    if chosen is None:
        flash(_("请先勾选企业。"), "warning")
        return back_to_list(request.form)
    count = db.session.scalar(select(func.count()).select_from(chosen.order_by(None).subquery()))
    pool = db.session.get(Pool, url_int(request.form.get("pool_id")) or 0)
    if pool is None:
        pools = db.session.scalars(select(Pool).order_by(Pool.year.desc(), Pool.kind, Pool.name)).all()
        return render_template("ladder/bulk_pool.html", count=count, every=every, pools=pools)
    added = add_members(pool, chosen, current_user.id)
    db.session.commit()
    flash(_("已将 %(n)s 家企业加入 %(pool)s（%(m)s 家原已在库）。", n=added, pool=pool.name, m=count - added), "success")
    return redirect(url_for("ladder.pool", pool_id=pool.id))

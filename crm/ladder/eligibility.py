"""Eligibility checks for 科小, 高企 and 瞪羚 (DOMAIN §2, §3, §4, §9).

Pure functions over plain dataclasses, standard library only; amounts are 万元 as Decimal. Every check says
pass / fail / missing with the figures and the rule it used, and a missing figure is never a pass. Ratios are
compared exactly (n × 100 ≥ pct × d), never through floats, so a band edge such as 10.00% always lands right.
"""
import re
from dataclasses import asdict, dataclass, replace
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal

PASS, FAIL, MISSING = "pass", "fail", "missing"
HNTE_FIELDS = ("电子信息", "生物与新医药", "航空航天", "新材料", "高技术服务", "新能源与节能", "资源与环境", "先进制造与自动化")
ESTIMATES = ("est_ip_other", "est_conversion", "est_rd_management")  # officer estimates of 高企 score parts
LABELS = {
    "employees": "职工总数", "tech_staff": "科技人员数", "revenue": "营业收入", "rd_expense": "研发费用",
    "rd_domestic": "境内研发费用", "total_cost": "成本费用总额", "total_assets": "资产总额", "net_assets": "净资产",
    "high_tech_revenue": "高新技术产品收入", "ip_class1": "Ⅰ类知识产权数", "ip_class2": "Ⅱ类知识产权数",
    "est_ip_other": "知识产权其他分项估分", "est_conversion": "成果转化估分", "est_rd_management": "研发组织管理估分",
    "founded_on": "成立日期", "tech_field": "技术领域", "restricted_industry": "限制或淘汰类产业声明",
    "integrity_ok": "诚信声明", "no_major_accident": "申报前一年重大事故声明",
}
# What a missing figure or declaration is called in the JSON of `companies eligibility` (INTERFACES.md: "missing"
# lists what is missing — figures by their field, "high_tech_revenue" — while "failed" lists checks).
FIELD_OF_LABEL = {label: name for name, label in LABELS.items()}
# (threshold in %, points), highest first; a band includes its lower bound (§2.2).
TECH_STAFF_BANDS = ((30, 20), (25, 16), (20, 12), (15, 8), (10, 4))
RD_REVENUE_BANDS = ((6, 50), (5, 40), (4, 30), (3, 20), (2, 10))
RD_COST_BANDS = ((30, 50), (25, 40), (20, 30), (15, 20), (10, 10))
# (class-II count, points): the 科小 IP part (§2.2); the 高企 IP quantity at each band's upper value (§3.1.7).
SME_IP2_BANDS = ((4, 24), (3, 18), (2, 12), (1, 6))
HNTE_IP2_BANDS = ((5, 6), (3, 4), (1, 2))
# 高企 R&D intensity by the latest year's revenue (§3.1.5): (revenue up to and including, %, band).
RD_TIERS = ((Decimal(5000), 5, "≤ 5,000"), (Decimal(20000), 4, "5,000–20,000"), (None, 3, "> 20,000"))
GROWTH_BANDS = ((Decimal("0.35"), 10), (Decimal("0.25"), 8), (Decimal("0.15"), 6), (Decimal("0.05"), 4))
SME_MAX_EMPLOYEES, SME_MAX_AMOUNT, SME_MIN_SCORE, HNTE_MIN_INNOVATION = 500, Decimal(20000), 60, 71
# 高企 innovation parts: (label, max points, officer estimate?). IP ≤ 30 = quantity 8 + the other IP items 22.
INNOVATION_PARTS = {
    "ip_quantity": ("知识产权数量", 8, False), "ip_other": ("知识产权其他分项", 22, True),
    "conversion": ("科技成果转化能力", 30, True), "rd_management": ("研究开发组织管理水平", 20, True),
    "growth_net_assets": ("净资产成长性", 10, False), "growth_revenue": ("销售收入成长性", 10, False),
}


@dataclass(frozen=True)
class YearFigures:
    """One fiscal year; amounts in 万元; None = not known."""
    year: int
    employees: int | None = None
    tech_staff: int | None = None
    revenue: Decimal | None = None
    rd_expense: Decimal | None = None
    rd_domestic: Decimal | None = None
    total_cost: Decimal | None = None
    total_assets: Decimal | None = None
    net_assets: Decimal | None = None
    high_tech_revenue: Decimal | None = None
    ip_class1: int | None = None
    ip_class2: int | None = None
    est_ip_other: int | None = None
    est_conversion: int | None = None
    est_rd_management: int | None = None


@dataclass(frozen=True)
class CompanyFacts:
    founded_on: date | None
    tech_field: str | None
    restricted_industry: bool | None
    integrity_ok: bool | None
    no_major_accident: bool | None
    national_award: bool | None
    provincial_rd_institution: bool | None
    led_standard: bool | None
    holds_valid_hnte: bool
    figures: tuple[YearFigures, ...]
    tech_sme_revoked: bool = False  # its 科小 registration for the application year was revoked (§2.4)

    def by_year(self) -> dict[int, YearFigures]:
        return {f.year: f for f in self.figures}


@dataclass(frozen=True)
class GazelleParams:
    require_hnte: bool = True
    min_base_revenue: Decimal = Decimal("1000")
    min_cagr: Decimal = Decimal("0.20")
    years: int = 3
    validity_years: int = 3


@dataclass(frozen=True)
class Check:
    name: str
    result: str  # pass | fail | missing
    value: float | int | str | None
    required: float | int | str | None
    message: str
    estimate: bool = False
    missing_figures: tuple[str, ...] = ()  # e.g. "2023年营业收入", for the shortlist's 缺失数据 column
    declared: bool = False  # decided by what an officer enters (技术领域, the yes/no declarations), not by figures
    waived: bool = False  # shown but not required: the 科小 score of a company qualifying by 直通车 (§2.3)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("missing_figures", "declared")}


@dataclass
class KindResult:
    eligible: bool
    checks: list[Check]
    score: int | None = None            # 科小
    parts: dict | None = None           # 科小 {tech_staff, rd, ip}
    direct: bool | None = None          # 科小 直通车
    direct_grounds: list[str] | None = None
    innovation: dict | None = None      # 高企 innovation score breakdown
    params: dict | None = None          # 瞪羚 parameters used

    @property
    def required(self) -> list[Check]:
        return [c for c in self.checks if not c.waived]

    @property
    def missing(self) -> list[str]:
        return [c.name for c in self.required if c.result == MISSING]

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.required if c.result == FAIL]

    @property
    def waived(self) -> list[str]:
        """Checks not passed that do not count (the 科小 score of a 直通车 company): shown, not failures."""
        return [c.name for c in self.checks if c.waived and c.result != PASS]

    @property
    def missing_figures(self) -> list[str]:
        return list(dict.fromkeys(f for c in self.required for f in c.missing_figures))

    @property
    def missing_measured(self) -> list[str]:
        """missing_figures without the officer's estimates, which a shortlist sets aside (§9)."""
        estimates = tuple(LABELS[n] for n in ESTIMATES)
        return [f for f in self.missing_figures if not f.endswith(estimates)]

    @property
    def missing_fields(self) -> list[str]:
        """The fields behind the missing checks' figures ("2023年高新技术产品收入" → "high_tech_revenue"), each once;
        a declaration not made yet is listed in missing_figures for the officer, but decides nothing."""
        labels = (re.sub(r"^\d{4}年", "", f) for c in self.required if c.result == MISSING for f in c.missing_figures)
        return list(dict.fromkeys(FIELD_OF_LABEL.get(label, label) for label in labels))

    @property
    def figures_pass(self) -> bool:
        """Passes every condition its figures can decide (§9): officer estimates aside, and a 技术领域 not entered
        yet (an import cannot carry it); one that is entered still counts."""
        return self.eligible or all(c.result == PASS for c in self.checks
                                    if not c.estimate and not (c.declared and c.result == MISSING))

    def to_dict(self) -> dict:
        out = {"eligible": self.eligible, "missing": self.missing_fields, "failed": self.failed,
               "missing_figures": self.missing_figures, "figures_pass": self.figures_pass}
        tech_sme = self.parts is not None  # 科小 always reports score (null if it cannot be computed) and parts
        for key in ("score", "parts", "direct", "direct_grounds", "innovation", "params"):
            if getattr(self, key) is not None or (tech_sme and key == "score"):
                out[key] = getattr(self, key)
        out["checks"] = [c.to_dict() for c in self.checks]
        return out


# ---- arithmetic and wording -------------------------------------------------------------------------------

def _meets(n, d, pct) -> bool:
    """n / d ≥ pct %, exactly. A share of nothing (no revenue, no employees, a base year of 0) meets no threshold: it
    is no ratio at all, as §3.1's growth rule never lets a year of 0 make an infinite rate."""
    return n > 0 and d > 0 and n * 100 >= pct * d


def _band(n, d, bands) -> int | None:
    if n is None or d is None:
        return None
    return next((points for pct, points in bands if _meets(n, d, pct)), 0)


def _ip_points(class1, class2, top: int, class2_bands) -> int | None:
    """A class-I item decides alone; otherwise both counts are needed (a missing figure is never a pass)."""
    if class1 is not None and class1 >= 1:
        return top
    if class1 is None or class2 is None:
        return None
    return next((p for k, p in class2_bands if class2 >= k), 0)


def _ip_counts(figs: dict, year: int) -> tuple[int | None, int | None, list[str]]:
    """Class-I and class-II counts of `year`, and the missing ones as labels."""
    fig = figs.get(year)
    counts = {n: getattr(fig, n, None) for n in ("ip_class1", "ip_class2")}
    return *counts.values(), [f"{year}年{LABELS[n]}" for n, v in counts.items() if v is None]


def _items(what: str, n: int | None) -> str:
    return f"{what}未填" if n is None else f"{what} {n} 项"


def _ratio(n, d) -> Decimal | None:
    """n / d truncated to 4 decimals for showing (never rounded up across a limit); None over nothing (d = 0)."""
    if d == 0:
        return None
    return (Decimal(n) / Decimal(d)).quantize(Decimal("0.0001"), ROUND_DOWN)


def _num(x):
    return float(x) if isinstance(x, Decimal) else x


def _amt(x) -> str:
    s = f"{Decimal(x):,f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def _pct(r) -> str:
    return "无法计算" if r is None else _amt(Decimal(r) * 100) + "%"


def _years(first: int, last: int) -> str:
    return f"{last}年" if first == last else f"{first}–{last}年"


def _get(figs: dict, year: int, name: str, miss: list):
    value = getattr(figs.get(year), name, None)
    if value is None:
        miss.append(f"{year}年{LABELS[name]}")
    return value


def _total(figs: dict, years, name: str, miss: list):
    values = [_get(figs, y, name, miss) for y in years]
    return None if None in values else sum(values)


def _missing(name: str, required, what: str, miss, estimate=False) -> Check:
    lead = f"{what}：" if what else ""
    return Check(name, MISSING, None, required, f"{lead}缺少{'、'.join(miss)}，无法判断", estimate, tuple(miss))


def _limit(name, what, value, limit, unit, miss) -> Check:
    if miss:
        return _missing(name, _num(limit), what, miss)
    return Check(name, PASS if value <= limit else FAIL, _num(value), _num(limit),
                 f"{what} {_amt(value)} {unit}，需 ≤ {_amt(limit)} {unit}")


def _declaration(name, flag, good: bool, label: str, ok_text: str, bad_text: str) -> Check:
    """An officer's yes/no declaration (§2.1 conditions 3–4, §3.1 condition 8). One not made yet holds — the rule
    that nothing missing passes is about figures — and stays listed for the officer to confirm."""
    if flag is None:
        return Check(name, PASS, None, good, f"{ok_text}（尚未声明，暂按此计）", missing_figures=(label,), declared=True)
    return Check(name, PASS if flag == good else FAIL, flag, good, (ok_text if flag == good else bad_text) + "（声明）",
                 declared=True)


def _ratio_check(name, what, n, d, pct, miss, note="") -> Check:
    if miss:
        return _missing(name, pct / 100, what, miss)
    r = _ratio(n, d)
    return Check(name, PASS if _meets(n, d, pct) else FAIL, _num(r), pct / 100,
                 f"{what} {_pct(r)}（{_amt(n)} / {_amt(d)}），需 ≥ {pct}%{note}")


# ---- 科技型中小企业 (§2) ------------------------------------------------------------------------------------

def _sme_parts(fig: YearFigures):
    """Points of each part; an R&D share over nothing (no revenue, no costs) is no share, left to the other."""
    return (_band(fig.tech_staff, fig.employees, TECH_STAFF_BANDS),
            None if fig.revenue == 0 else _band(fig.rd_expense, fig.revenue, RD_REVENUE_BANDS),
            None if fig.total_cost == 0 else _band(fig.rd_expense, fig.total_cost, RD_COST_BANDS),
            _ip_points(fig.ip_class1, fig.ip_class2, 30, SME_IP2_BANDS))


def tech_sme_score(fig: YearFigures) -> tuple[int | None, dict, list[str]]:
    """The §2.2 score: (score or None, {tech_staff, rd, ip} points, names of the missing figures).

    R&D is the higher of (a) R&D / revenue and (b) R&D / total cost; when only one is computable (the other's
    figure missing, or 0), that one.
    """
    ts, a, b, ip = _sme_parts(fig)
    rd = max((p for p in (a, b) if p is not None), default=None)
    if rd is None and None not in (fig.rd_expense, fig.revenue, fig.total_cost):
        rd = 0  # neither revenue nor costs to measure R&D against
    parts = {"tech_staff": ts, "rd": rd, "ip": ip}
    needs = {"tech_staff": ("tech_staff", "employees"), "rd": ("rd_expense", "revenue", "total_cost"),
             "ip": ("ip_class1", "ip_class2")}
    missing = [n for part, names in needs.items() if parts[part] is None for n in names if getattr(fig, n) is None]
    return (None if None in parts.values() else sum(parts.values())), parts, missing


def _sme_score_check(fig: YearFigures, score, parts, missing) -> Check:
    fy = fig.year
    if score is None:
        return _missing("score", SME_MIN_SCORE, f"{fy}年评价得分", [f"{fy}年{LABELS[n]}" for n in missing])
    r = lambda d: "未知" if d is None else _pct(_ratio(fig.rd_expense, d))  # noqa: E731
    msg = (f"{fy}年评价得分 {score} 分，需 ≥ {SME_MIN_SCORE} 分：科技人员占比 {_pct(_ratio(fig.tech_staff, fig.employees))}"
           f" 得 {parts['tech_staff']} 分；研发费用占营业收入 {r(fig.revenue)}、占成本费用总额 {r(fig.total_cost)}，"
           f"取高者得 {parts['rd']} 分；{_items('Ⅰ类知识产权', fig.ip_class1)}、{_items('Ⅱ类', fig.ip_class2)}"
           f"得 {parts['ip']} 分")
    if score >= SME_MIN_SCORE:
        return Check("score", PASS, score, SME_MIN_SCORE, msg)
    # One R&D alternative's figure is missing: it might be the higher one. Fail only if even 50 would not help. (A
    # share over 0 is no alternative: nothing is missing.)
    absent = [name for name in ("revenue", "total_cost") if getattr(fig, name) is None]
    unknown = [f"{fy}年{LABELS[absent[0]]}"] if len(absent) == 1 else []
    if unknown and score - parts["rd"] + 50 >= SME_MIN_SCORE:
        return Check("score", MISSING, score, SME_MIN_SCORE,
                     f"{msg}；缺少{unknown[0]}，另一口径研发得分可能更高，无法判断", missing_figures=tuple(unknown))
    return Check("score", FAIL, score, SME_MIN_SCORE, msg)


def check_tech_sme(facts: CompanyFacts, year: int) -> KindResult:
    """科小 evaluation for application year `year`, from fiscal year year − 1 (§2.1–2.3)."""
    fy = year - 1
    fig = facts.by_year().get(fy) or YearFigures(fy)
    miss = lambda name: [f"{fy}年{LABELS[name]}"] if getattr(fig, name) is None else []  # noqa: E731
    checks = [
        _limit("size_employees", f"{fy}年职工总数", fig.employees, SME_MAX_EMPLOYEES, "人", miss("employees")),
        _limit("size_revenue", f"{fy}年营业收入", fig.revenue, SME_MAX_AMOUNT, "万元", miss("revenue")),
        _limit("size_assets", f"{fy}年资产总额", fig.total_assets, SME_MAX_AMOUNT, "万元", miss("total_assets")),
        _declaration("restricted_industry", facts.restricted_industry, False, LABELS["restricted_industry"],
                     "不属于限制类、淘汰类产业", "属于限制类或淘汰类产业"),
        _declaration("integrity", facts.integrity_ok, True, LABELS["integrity_ok"],
                     "近两年无重大事故、严重违法失信等情形", "存在重大事故、严重违法或失信等情形"),
    ]
    conditions_1_4 = all(c.result == PASS for c in checks)
    score, parts, missing = tech_sme_score(fig)
    checks.append(_sme_score_check(fig, score, parts, missing))
    ts_ratio = _pct(_ratio(fig.tech_staff, fig.employees)) if parts["tech_staff"] is not None else None
    checks.append(
        _missing("tech_staff_nonzero", 0.1, f"{fy}年科技人员指标",
                 [f"{fy}年{LABELS[n]}" for n in ("tech_staff", "employees") if getattr(fig, n) is None])
        if ts_ratio is None else
        Check("tech_staff_nonzero", PASS if parts["tech_staff"] else FAIL, _num(_ratio(fig.tech_staff, fig.employees)),
              0.1, f"{fy}年科技人员占比 {ts_ratio}，得 {parts['tech_staff']} 分；该项不得为 0 分（需 ≥ 10%）"))
    grounds = [label for flag, label in (
        (facts.holds_valid_hnte, "有效高新技术企业证书"), (facts.national_award, "近五年国家级科技奖励（前三名单位）"),
        (facts.provincial_rd_institution, "省部级以上研发机构"), (facts.led_standard, "近五年主导制定国际、国家或行业标准"),
    ) if flag]
    direct = conditions_1_4 and bool(grounds)
    eligible = direct or all(c.result == PASS for c in checks)
    if facts.tech_sme_revoked:  # §2.4: no second application that year, whatever the figures
        checks.append(Check("not_revoked", FAIL, True, False, f"{year}年的入库登记已被撤销，当年不能再次申请"))
        eligible = direct = False
    if direct:  # §2.3: qualifies regardless of score
        checks = [replace(c, waived=True) if c.name in ("score", "tech_staff_nonzero") else c for c in checks]
    return KindResult(eligible, checks, score=score, parts=parts, direct=direct, direct_grounds=grounds)


# ---- 高新技术企业 (§3) -------------------------------------------------------------------------------------

# Products of amounts in 万元 stay exact and a rate on a band edge comes out exactly: a rate that does not
# terminate differs from every edge by far more than 60 digits can blur.
_EXACT = Context(prec=60)


def growth_rate(y1, y2, y3) -> Decimal | None:
    """½ × (y2/y1 + y3/y2) − 1; y3/y2 − 1 if y1 is 0; None (→ 0 points) if y2 is 0. Inputs must be known."""
    if y2 == 0:
        return None
    y1, y2, y3 = (Decimal(v) for v in (y1, y2, y3))
    c = _EXACT  # (y2/y1 + y3/y2) / 2 = (y2² + y1·y3) / (2·y1·y2): one division, exact whenever the rate terminates
    if y1 == 0:
        return c.subtract(c.divide(y3, y2), 1)
    return c.subtract(c.divide(c.add(c.multiply(y2, y2), c.multiply(y1, y3)), c.multiply(2, c.multiply(y1, y2))), 1)


def growth_points(rate: Decimal | None) -> int:
    """Growth points at the upper value of each band: ≥35%: 10 · ≥25%: 8 · ≥15%: 6 · ≥5%: 4 · >0: 2 · else 0."""
    if rate is None:
        return 0
    return next((p for limit, p in GROWTH_BANDS if rate >= limit), 2 if rate > 0 else 0)


def _innovation_check(facts: CompanyFacts, figs: dict, year: int) -> tuple[Check, dict]:
    fy, miss, points, notes = year - 1, [], {}, {}
    class1, class2, unknown = _ip_counts(figs, fy)
    points["ip_quantity"] = _ip_points(class1, class2, 8, HNTE_IP2_BANDS)
    if points["ip_quantity"] is None:
        miss += unknown
    for part, name in (("growth_net_assets", "net_assets"), ("growth_revenue", "revenue")):
        values = []  # a year before the company was founded counts as 0 (→ the y1 = 0 / y2 = 0 rules)
        for y in range(year - 3, year):
            before = facts.founded_on is not None and y < facts.founded_on.year and getattr(figs.get(y), name, None) is None
            values.append(Decimal(0) if before else _get(figs, y, name, miss))
        if None not in values:
            rate = growth_rate(*values)
            points[part] = growth_points(rate)
            notes[part] = "无法计算" if rate is None else _pct(rate.quantize(Decimal("0.0001"), ROUND_DOWN))
    for part, name in (("ip_other", "est_ip_other"), ("conversion", "est_conversion"),
                       ("rd_management", "est_rd_management")):
        estimate = _get(figs, fy, name, miss)
        if estimate is not None:
            points[part] = min(max(int(estimate), 0), INNOVATION_PARTS[part][1])
    breakdown = {"total": None if miss else sum(points.values()), "parts": {
        part: {"label": label, "points": points.get(part), "max": top, "estimate": est}
        for part, (label, top, est) in INNOVATION_PARTS.items()}}
    if miss:
        return _missing("innovation_score", HNTE_MIN_INNOVATION, "创新能力评价", miss, estimate=True), breakdown
    total = breakdown["total"]
    shown = " + ".join(f"{label} {points[p]}" + ("（估）" if est else f"（增长率 {notes[p]}）" if p in notes else "")
                       for p, (label, _, est) in INNOVATION_PARTS.items())
    msg = (f"创新能力评价 {total} 分，需 ≥ {HNTE_MIN_INNOVATION} 分：{shown}；"
           "知识产权数量和成长性按档位上限计，带（估）的为包联干部估分")
    return Check("innovation_score", PASS if total >= HNTE_MIN_INNOVATION else FAIL, total, HNTE_MIN_INNOVATION,
                 msg, estimate=True), breakdown


def check_hnte(facts: CompanyFacts, year: int, on: date | None = None) -> KindResult:
    """高企 conditions (§3.1) for an application on `on` (default 31 December of `year`); latest fiscal year year − 1."""
    on = on or date(year, 12, 31)
    figs, fy = facts.by_year(), year - 1
    checks = []
    if facts.founded_on is None:
        checks.append(_missing("registered_365", 365, "", [LABELS["founded_on"]]))
    else:
        days = (on - facts.founded_on).days
        checks.append(Check("registered_365", PASS if days >= 365 else FAIL, days, 365,
                            f"{facts.founded_on.isoformat()} 成立，至申报日 {on.isoformat()} 已满 {days} 天，需 ≥ 365 天"))
    c1, c2, unknown = _ip_counts(figs, fy)
    owned = (c1 or 0) + (c2 or 0)  # one item of either class decides it
    checks.append(_missing("ip_owned", 1, f"{fy}年拥有知识产权", unknown) if unknown and not owned else
                  Check("ip_owned", PASS if owned >= 1 else FAIL, owned, 1,
                        f"{fy}年拥有{_items('Ⅰ类知识产权', c1)}、{_items('Ⅱ类', c2)}，需至少 1 项"))
    field_ = facts.tech_field
    checks.append(replace(_missing("tech_field", "八大领域之一", "", [LABELS["tech_field"]]), declared=True)
                  if field_ is None else
                  Check("tech_field", PASS if field_ in HNTE_FIELDS else FAIL, field_, "八大领域之一",
                        f"核心技术领域为{field_}，需属于国家重点支持的八大高新技术领域", declared=True))
    miss = []
    n, d = _get(figs, fy, "tech_staff", miss), _get(figs, fy, "employees", miss)
    checks.append(_ratio_check("tech_staff_ratio", f"{fy}年科技人员占职工总数", n, d, 10, miss))
    first = max(year - 3, facts.founded_on.year) if facts.founded_on else year - 3
    window = range(first, year)
    if not window:
        for name in ("rd_ratio", "rd_domestic_ratio"):
            checks.append(Check(name, FAIL, None, None, f"成立于 {first} 年，尚无完整会计年度的研发费用"))
    else:  # R&D over the last three fiscal years, or the years since founding; threshold by the latest revenue
        miss, span, latest = [], _years(first, fy), getattr(figs.get(fy), "revenue", None)
        pct, tier = next((p, t) for limit, p, t in RD_TIERS if latest is None or limit is None or latest <= limit)
        note = "" if latest is None else f"（最近一年营业收入 {_amt(latest)} 万元，{tier} 万元档）"
        rd, rev = _total(figs, window, "rd_expense", miss), _total(figs, window, "revenue", miss)
        checks.append(_ratio_check("rd_ratio", f"{span}研发费用占营业收入", rd, rev, pct, miss, note))
        miss = []
        dom, rd = _total(figs, window, "rd_domestic", miss), _total(figs, window, "rd_expense", miss)
        checks.append(_ratio_check("rd_domestic_ratio", f"{span}境内研发费用占全部研发费用", dom, rd, 60, miss))
    miss = []
    n, d = _get(figs, fy, "high_tech_revenue", miss), _get(figs, fy, "revenue", miss)
    checks.append(_ratio_check("high_tech_revenue_ratio", f"{fy}年高新技术产品（服务）收入占营业收入", n, d, 60, miss))
    innovation, breakdown = _innovation_check(facts, figs, year)
    checks.append(innovation)
    checks.append(_declaration("no_major_accident", facts.no_major_accident, True, LABELS["no_major_accident"],
                               "申报前一年无重大安全、质量事故或严重环境违法行为", "申报前一年发生重大安全、质量事故或严重环境违法行为"))
    return KindResult(all(c.result == PASS for c in checks), checks, innovation=breakdown)


# ---- 瞪羚企业 (§4, configurable) ----------------------------------------------------------------------------

def check_gazelle(facts: CompanyFacts, year: int, params: GazelleParams = GazelleParams()) -> KindResult:
    """Gazelle conditions with the configured parameters; base year = year − params.years, latest = year − 1."""
    figs, base, fy, periods = facts.by_year(), year - params.years, year - 1, max(params.years - 1, 1)
    min_rev, min_cagr = Decimal(str(params.min_base_revenue)), Decimal(str(params.min_cagr))  # settings hold strings
    if params.require_hnte:
        hnte = Check("holds_hnte", PASS if facts.holds_valid_hnte else FAIL, facts.holds_valid_hnte, True,
                     f"{'持有' if facts.holds_valid_hnte else '未持有'}有效高新技术企业证书，需持有（参数：须为高企 = 是）")
    else:
        hnte = Check("holds_hnte", PASS, facts.holds_valid_hnte, False, "不要求持有高企证书（参数：须为高企 = 否）")
    miss = []
    first = _get(figs, base, "revenue", miss)
    base_check = _missing("base_revenue", _num(min_rev), f"{base}年（基期）营业收入", miss) if miss else Check(
        "base_revenue", PASS if first >= min_rev else FAIL, _num(first), _num(min_rev),
        f"{base}年（基期）营业收入 {_amt(first)} 万元，需 ≥ {_amt(min_rev)} 万元（参数：基期营业收入下限 {_amt(min_rev)} 万元）")
    last = _get(figs, fy, "revenue", miss)
    rule = f"需 ≥ {_pct(min_cagr)}（参数：年均复合增长率下限 {_pct(min_cagr)}，考察 {params.years} 个会计年度）"
    if miss:
        cagr_check = _missing("revenue_cagr", _num(min_cagr), f"{_years(base, fy)}营业收入年均复合增长率", miss)
    else:
        ok = _meets(last, first * (1 + min_cagr) ** periods, 100)  # exact: last ≥ first × (1 + g)^n
        cagr = None if first <= 0 or last < 0 else \
            ((last / first) ** (Decimal(1) / periods) - 1).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        cagr_check = Check("revenue_cagr", PASS if ok else FAIL, _num(cagr), _num(min_cagr),
                           f"{_years(base, fy)}营业收入年均复合增长率 {'无法计算' if cagr is None else _pct(cagr)}"
                           f"（{_amt(first)} → {_amt(last)} 万元），{rule}")
    checks = [hnte, base_check, cagr_check]
    used = {"require_hnte": params.require_hnte, "min_base_revenue": _num(min_rev), "min_cagr": _num(min_cagr),
            "years": params.years, "validity_years": params.validity_years}
    return KindResult(all(c.result == PASS for c in checks), checks, params=used)


def check_all(facts: CompanyFacts, year: int, on: date | None = None,
              gazelle_params: GazelleParams | None = None) -> dict:
    """The tech_sme / hnte / gazelle part of `companies eligibility --json` (INTERFACES.md); JSON-serialisable."""
    return {"tech_sme": check_tech_sme(facts, year).to_dict(),
            "hnte": check_hnte(facts, year, on).to_dict(),
            "gazelle": check_gazelle(facts, year, gazelle_params or GazelleParams()).to_dict()}

"""Demo data: a year of visits (about one per company) with needs and follow-ups, some done, some overdue."""
import random
from datetime import datetime, time, timedelta

from sqlalchemy import select

from crm.access import can_see
from crm.clock import today
from crm.extensions import db
from crm.models import Company, FollowUp, FollowUpEvent, NeedCategory, User, Visit

KIND_WEIGHTS = {"onsite": 60, "phone": 25, "meeting": 10, "online": 5}
NEED_WEIGHTS = {"认定辅导": 30, "资金支持": 22, "科技金融/天府科创贷": 14, "知识产权": 12, "人才引进": 10,
                "成果转化": 6, "用地/厂房": 5, "市场拓展": 8, "其他": 3}
OPENINGS = {
    "onsite": ["实地查看{industry}生产线和研发中心，与企业负责人座谈。", "到企业宣讲高企认定和科小评价政策。"],
    "phone": ["电话回访企业负责人，了解近期经营和研发情况。"],
    "meeting": ["参加园区组织的企业座谈会，听取企业意见。"],
    "online": ["线上会议了解企业研发项目进展。"],
}
FINDINGS = [
    "企业上年营业收入约{revenue}万元，研发投入占比偏低，需规范研发费用归集。",
    "企业已有发明专利{ip}件，正在申请实用新型专利。",
    "企业订单饱满，计划扩建生产线，流动资金较紧张。",
    "企业研发团队稳定，科技人员约占职工总数三成。",
    "企业首次了解科技型中小企业评价，有意愿今年入库。",
]
FOLLOW_UPS = {
    "认定辅导": ["协助梳理高企申报材料", "指导填报科小评价信息", "对接中介机构开展研发费用专项审计"],
    "资金支持": ["推送省市科技项目申报通知", "协助申报研发费用后补助"],
    "科技金融/天府科创贷": ["对接合作银行办理天府科创贷", "提供科技型企业贷款贴息政策"],
    "知识产权": ["联系知识产权服务机构上门辅导", "协助办理专利快速预审"],
    "人才引进": ["推荐参加高校人才招聘会", "协助申报市级人才项目"],
    "成果转化": ["对接四川文理学院相关科研团队"],
    "用地/厂房": ["向园区管委会反映用地需求"],
    "市场拓展": ["推荐参加西博会科技成果展"],
    "其他": ["向相关部门转交企业反映的问题"],
}


def seed(rng: random.Random) -> None:
    on = today()
    officers = list(db.session.scalars(select(User).where(User.role == "officer", User.active.is_(True))))
    categories = {c.name: c for c in db.session.scalars(select(NeedCategory).where(NeedCategory.active.is_(True)))}
    if not officers:
        return
    for company in db.session.scalars(select(Company).order_by(Company.id)):
        for _ in range(rng.choices([0, 1, 2], weights=[15, 65, 20])[0]):
            _visit(rng, company, officers, categories, on)


def _visit(rng: random.Random, company: Company, officers: list[User], categories: dict, on) -> None:
    # Officers who may open the company: a follow-up owned by anyone else could be neither seen nor done by them.
    covering = [o for o in officers if can_see(o, company)] or officers
    lead = company.officer or rng.choice(covering)
    others = [o for o in covering if o is not lead]
    team = [lead] + ([rng.choice(others)] if others and rng.random() < 0.2 else [])
    visited_on = on - timedelta(days=rng.randint(0, 364))
    figures = company.years[-1] if company.years else None
    names = [n for n in rng.sample(list(NEED_WEIGHTS), k=rng.choice([0, 1, 1, 2]), counts=list(NEED_WEIGHTS.values()))
             if n in categories]
    names = list(dict.fromkeys(names))
    kind = rng.choices(list(KIND_WEIGHTS), list(KIND_WEIGHTS.values()))[0]
    summary = rng.choice(OPENINGS[kind]).format(industry=company.industry or "") + rng.choice(FINDINGS).format(
        revenue=figures.revenue if figures and figures.revenue else "3000", ip=(figures.ip_class1 or 1) if figures else 1)
    logged = datetime.combine(visited_on, time(rng.randint(1, 10), rng.randint(0, 59)))  # UTC: 09:00–18:59 in 达州
    visit = Visit(company=company, visited_on=visited_on, kind=kind, officer_id=lead.id, officers=team,
                  company_people=company.contact_name, summary=summary, needs=[categories[n] for n in names],
                  created_at=logged)
    for name in names[: rng.choice([0, 1, 1, 2])]:
        due = visited_on + timedelta(days=rng.randint(7, 45))
        follow_up = FollowUp(company=company, title=rng.choice(FOLLOW_UPS[name]), owner_id=lead.id, due_on=due,
                             created_at=logged, created_by_id=lead.id)
        finished = due - timedelta(days=rng.randint(-10, 20))
        if finished < on and rng.random() < (0.75 if due < on else 0.25):
            follow_up.done_at = datetime.combine(max(finished, visited_on), time(8))
            follow_up.done_note = rng.choice(["已办结", "已对接，企业反馈良好", "材料已提交", ""])
            follow_up.events.append(FollowUpEvent(at=follow_up.done_at, by_id=lead.id, field="done", new="done",
                                                  note=follow_up.done_note))
        visit.follow_ups.append(follow_up)
    db.session.add(visit)

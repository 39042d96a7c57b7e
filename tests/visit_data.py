"""Test data for visits: the visit form as a phone posts it, and visits in one line."""
from datetime import timedelta

from sqlalchemy import select

from crm.clock import today
from crm.extensions import db
from crm.models import NeedCategory, Visit
from crm.visits.service import FollowUpDraft, VisitDraft, log_visit


def need_id(name: str) -> int:
    return db.session.scalar(select(NeedCategory.id).where(NeedCategory.name == name))


def visit_form(officer, **over) -> dict:
    """The visit form as a phone submits it: three follow-up rows, the unused ones blank."""
    data = {"visited_on": today().isoformat(), "kind": "onsite", "summary": "座谈研发投入和高企申报计划",
            "officer_ids": [officer.id], "company_people": "刘总", "needs_detail": ""}
    for i in range(3):
        data.update({f"follow_ups-{i}-title": "", f"follow_ups-{i}-owner_id": officer.id,
                     f"follow_ups-{i}-due_on": (today() + timedelta(days=7)).isoformat()})
    data.update(over)
    return data


def add_visit(company, officer, days_ago=0, follow_ups=(), needs=()) -> Visit:
    """A visit `days_ago` days before today; follow_ups are (title, due in days from today)."""
    return log_visit(VisitDraft(
        company_id=company.id, visited_on=today() - timedelta(days=days_ago), kind="onsite", officer_ids=[officer.id],
        summary="走访", need_ids=[need_id(n) for n in needs],
        follow_ups=[FollowUpDraft(title, officer.id, today() + timedelta(days=due)) for title, due in follow_ups],
    ), officer)[0]

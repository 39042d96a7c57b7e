"""Sections other capabilities add to the company page (eligibility, timeline, visits, ...).

A capability registers a panel when its routes module is imported:
    register_panel(order=20, template="ladder/_company_panel.html", context=lambda company, on: {...})
The template reads its dict as `panel` (`panel.position` is "top" (default) or "bottom").
The context function must run a constant number of queries.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Panel:
    order: int
    template: str
    context: Callable[[Any, date], dict]


PANELS: list[Panel] = []


def register_panel(order: int, template: str, context: Callable[[Any, date], dict]) -> None:
    if not any(p.template == template for p in PANELS):
        PANELS.append(Panel(order, template, context))
        PANELS.sort(key=lambda p: p.order)


def panels_for(company, on: date) -> list[tuple[str, dict]]:
    return [(p.template, p.context(company, on)) for p in PANELS]


def company_page(company, cert_form=None, unsaved_at: str | None = None) -> str:
    """The company page with every panel; after a POST that was not saved (a certification, a 年报), shown again
    with the form's errors and input, and a notice at the top linking down to `unsaved_at` (the form's anchor)."""
    from flask import render_template

    from crm.clock import today
    from crm.companies.forms import CertificationForm
    from crm.ladder.queries import standing_of

    on = today()
    return render_template("companies/show.html", company=company, standing=standing_of(company, on),
                           cert_form=cert_form or CertificationForm(), on=on, panels=panels_for(company, on),
                           unsaved_at=unsaved_at)

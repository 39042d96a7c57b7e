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

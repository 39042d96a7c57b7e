"""Chinese labels that are data in Python and translated only where a page shows them.

Label dicts such as KIND_LABELS feed exports, imports and the CLI, whose Chinese text is a contract
(INTERFACES.md), so their values stay Chinese strings. N_() puts each value in the catalogue, and
`translated(labels)` is the read-only view a page uses: every value comes out in the reader's language.
"""
from collections.abc import Iterator, Mapping

from flask_babel import get_translations, gettext
from jinja2.ext import _make_new_gettext, _make_new_ngettext  # what install_gettext_callables wraps with


def N_(message: str) -> str:  # noqa: N802  (the name pybabel extracts by default)
    """Mark a Chinese label for extraction; it is translated where shown, not here."""
    return message


class translated(Mapping):  # noqa: N801  (reads as a function at the call site)
    """`labels` as the current reader sees them: gettext() on each value when it is read."""

    def __init__(self, labels: Mapping[str, str]):
        self.labels = labels

    def __getitem__(self, key: str) -> str:
        return gettext(self.labels[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self.labels)

    def __len__(self) -> int:
        return len(self.labels)


def bound_gettext() -> dict:
    """Jinja's gettext and ngettext (and so `_()`) bound to the reader's catalogue, once per render.

    The callables Flask-Babel installs resolve the domain, the locale and the catalogue again on every
    call, and a page makes hundreds of calls. A template context variable shadows the global of the same
    name, so templates are unchanged; Jinja's own wrappers keep its %-formatting and autoescaping.
    """
    catalogue = get_translations()
    return {"gettext": _make_new_gettext(catalogue.ugettext), "ngettext": _make_new_ngettext(catalogue.ungettext)}

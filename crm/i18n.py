"""Chinese labels that are data in Python and translated only where a page shows them.

Label dicts such as KIND_LABELS feed exports, imports and the CLI, whose Chinese text is a contract
(INTERFACES.md), so their values stay Chinese strings. N_() puts each value in the catalogue, and
`translated(labels)` is the read-only view a page uses: every value comes out in the reader's language.
"""
from collections.abc import Iterator, Mapping

from flask_babel import get_translations, gettext
from jinja2 import pass_context, pass_eval_context
from markupsafe import escape


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
    """`_()`, gettext() and ngettext() for templates, bound to the reader's catalogue once per render.

    The callables Flask-Babel installs resolve the domain, the locale and the catalogue again on every call,
    and `_()` goes through one more call to find them; a page makes hundreds. Context variables shadow those
    globals, so templates are unchanged. As Jinja's newstyle gettext, the message is always %-formatted (ngettext
    with `num` set) with its variables escaped where the template autoescapes; unlike it, the translation is
    escaped too — translations are text, and Moved "{company}" must not end the attribute it is written into.

    A list shows a count on every row ("逾期 %(num)s 天" on two hundred follow-ups, "%(num)s 天" on every card of
    a board) and the counts repeat, so ngettext() with no other variables keeps each message it made this render.
    """
    catalogue = get_translations()
    counted: dict[tuple, str] = {}

    @pass_eval_context
    def gettext_(eval_ctx, message: str, **variables) -> str:
        text = catalogue.ugettext(message)
        return (escape(text) if eval_ctx.autoescape else text) % variables

    @pass_eval_context
    def ngettext_(eval_ctx, singular: str, plural: str, num: int, **variables) -> str:
        key = None if variables else (singular, plural, num, eval_ctx.autoescape)
        if key in counted:
            return counted[key]
        variables.setdefault("num", num)
        text = catalogue.ungettext(singular, plural, num)
        message = (escape(text) if eval_ctx.autoescape else text) % variables
        if key is not None:
            counted[key] = message
        return message

    return {"_": gettext_, "gettext": gettext_, "ngettext": ngettext_, "_catalogue": catalogue}


@pass_context
def translate(context, label: str) -> str:
    """`{{ label|translate }}`: a Chinese label that arrives as a value (Standing.label, a check's short name),
    from the catalogue bound for this render. Unlike _() it does not %-format, so "≥ 10%" is safe."""
    catalogue = context.get("_catalogue")
    return gettext(label) if catalogue is None else catalogue.ugettext(label)

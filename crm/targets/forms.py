from flask_wtf import FlaskForm


class TargetsForm(FlaskForm):
    """The targets grid: its cells are named t-<area id or city>-<metric> and parsed by the view; the form
    itself carries the CSRF token."""


def cell_name(area_id: int | None, metric: str) -> str:
    return f"t-{area_id or 'city'}-{metric}"

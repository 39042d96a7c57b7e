from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db


class Setting(db.Model):
    """A configurable rule parameter (DOMAIN marks them **configurable**); defaults come from a migration."""

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict | list | int | str] = mapped_column(JSON)
    label: Mapped[str] = mapped_column(String(200), default="")

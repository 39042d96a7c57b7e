from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db


class DataVersion(db.Model):
    """One row whose counter moves whenever data behind cached figures changes (crm/figures_cache.py)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)

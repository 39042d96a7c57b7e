from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.clock import utcnow
from crm.extensions import db
from crm.models.area import Area

METRICS = ("hnte_valid", "hnte_new", "hnte_renewed", "tech_sme_registered", "tech_sme_new", "gazelle_new")


class Target(db.Model):
    """A yearly target for one metric (DOMAIN §5), city-wide (area NULL) or for one area."""

    __table_args__ = (Index("ix_target_year_metric_area", "year", "metric", "area_id", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    metric: Mapped[str] = mapped_column(String(24))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"))
    value: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    area: Mapped[Area | None] = relationship()

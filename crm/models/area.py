from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db

DISTRICT = "district"
PARK = "park"


class Area(db.Model):
    """A district of 达州市 (GB/T 2260 code) or a park (configurable list, no code)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # district | park
    code: Mapped[str | None] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    sort: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def key(self) -> str:
        """How interfaces name the area: districts by code, parks by name."""
        return self.code or self.name

    def __repr__(self) -> str:
        return f"<Area {self.key} {self.name}>"


class AreaAlias(db.Model):
    """Other names and old codes of an area (e.g. 511721 达县 → 达川区)."""

    __tablename__ = "area_alias"
    alias: Mapped[str] = mapped_column(String(60), primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"))
    area: Mapped[Area] = relationship()

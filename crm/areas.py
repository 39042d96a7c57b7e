"""Districts and parks: lookup by code, name or alias (DOMAIN §7)."""
import re

from sqlalchemy import select

from crm.extensions import db
from crm.models import Area, AreaAlias
from crm.models.area import DISTRICT, PARK
from crm.normalize import to_halfwidth


def all_areas(kind: str | None = None) -> list[Area]:
    stmt = select(Area).where(Area.active.is_(True)).order_by(Area.kind, Area.sort, Area.name)
    if kind:
        stmt = stmt.where(Area.kind == kind)
    return list(db.session.scalars(stmt))


# Written before a district or park name in addresses and ledgers: "四川省达州市达川区" is 达川区.
_PLACE_PREFIX = re.compile(r"^(四川省)?(达州市)?")
_CODE_AS_NUMBER = re.compile(r"^(\d{6})\.0*$")  # 511703.0: a code cell that went through a number


def resolve_area(value: str | None, kind: str | None = None) -> Area | None:
    """An area given by its code, name or alias ('511721', '达县', '达川区' all name 达川区)."""
    text = "".join(to_halfwidth(str(value or "")).split())  # "通川 区", "通川　区" are 通川区
    text = _CODE_AS_NUMBER.sub(r"\1", _PLACE_PREFIX.sub("", text)) or text
    if not text:
        return None
    area = db.session.scalar(select(Area).where((Area.code == text) | (Area.name == text)))
    if area is None:
        alias = db.session.get(AreaAlias, text)
        area = alias.area if alias else None
    if area is not None and kind and area.kind != kind:
        return None
    return area


def resolve_district(value: str | None) -> Area | None:
    return resolve_area(value, DISTRICT)


def resolve_park(value: str | None) -> Area | None:
    return resolve_area(value, PARK)

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from crm.clock import utcnow
from crm.extensions import db
from crm.normalize import normalize_code

TECH_SME, HNTE, GAZELLE = "tech_sme", "hnte", "gazelle"
KINDS = (TECH_SME, HNTE, GAZELLE)
VALID, REVOKED = "valid", "revoked"


def period(year: int | None, issued_on: date | None) -> int | None:
    """The year a certification belongs to: its stated year, else its issue date's."""
    return year if year is not None else (issued_on.year if issued_on else None)


def same_certification(cert, number: str, year: int | None, issued_on: date | None) -> bool:
    """Whether `cert` (of the same company and kind) is the one described (DOMAIN §8): the same 编号, or — when
    either has none — the same year. The import matches rows by it and the company page refuses a second copy."""
    if number and cert.number:
        return cert.number == number
    return period(cert.year, cert.issued_on) == period(year, issued_on)


class Certification(db.Model):
    """A dated certification: 科小 registration, 高企 certificate or 瞪羚 recognition.

    `valid_from`/`valid_until` are derived by crm.ladder.standing.validity_window() whenever the row
    is written, so counting in SQL is a plain range test (DOMAIN §2.4, §3.2, §4, §5).
    """

    __table_args__ = (
        Index("ix_certification_kind_window", "kind", "status", "valid_from", "valid_until"),
        Index("ix_certification_company_kind", "company_id", "kind"),
        Index("ix_certification_kind_year", "kind", "year"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    number: Mapped[str] = mapped_column(String(60), default="")  # 入库登记编号 / 证书编号
    year: Mapped[int | None]  # registration / recognition year (required for 科小 and 瞪羚)
    issued_on: Mapped[date | None]  # required for 高企
    expires_on: Mapped[date | None]  # stated expiry; wins over the computed one
    status: Mapped[str] = mapped_column(String(10), default=VALID)
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    source: Mapped[str] = mapped_column(String(40), default="manual")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    company: Mapped["Company"] = relationship(back_populates="certifications")  # noqa: F821

    @validates("number")
    def _normalize_number(self, _key: str, number: str | None) -> str:
        """ＧＲ２０２３… typed on a phone and GR2023… imported are one certificate."""
        return normalize_code(number)

    def __repr__(self) -> str:
        return f"<Certification {self.kind} {self.number or self.year} {self.status}>"

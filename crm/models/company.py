from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from crm.clock import utcnow
from crm.extensions import db
from crm.models.area import Area
from crm.models.user import User
from crm.normalize import name_sort_key

Money = Numeric(14, 2)  # 万元 with two decimals, as on Chinese forms


class Company(db.Model):
    __table_args__ = (
        Index("ix_company_district_name_sort", "district_id", "name_sort"),
        Index("ix_company_park_name_sort", "park_id", "name_sort"),
        Index("ix_company_officer_id", "officer_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码, normalised
    name: Mapped[str] = mapped_column(String(200), index=True)
    name_sort: Mapped[str] = mapped_column(String(400), default="", server_default="", index=True)  # lists sort by it
    district_id: Mapped[int] = mapped_column(ForeignKey("area.id"))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"))
    industry: Mapped[str] = mapped_column(String(100), default="")
    founded_on: Mapped[date | None]
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Declarations and facts the eligibility checks need (DOMAIN §2.1, §2.3, §3.1); None = not yet known.
    tech_field: Mapped[str | None] = mapped_column(String(20))
    restricted_industry: Mapped[bool | None]
    integrity_ok: Mapped[bool | None]
    no_major_accident: Mapped[bool | None]
    national_award: Mapped[bool | None]
    provincial_rd_institution: Mapped[bool | None]
    led_standard: Mapped[bool | None]
    uscc_check_waived: Mapped[bool] = mapped_column(default=False)  # an admin confirmed a failing code
    notes: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)  # optimistic locking

    @validates("name")
    def _keep_sort_key(self, _key: str, name: str) -> str:
        self.name_sort = name_sort_key(name)
        return name

    district: Mapped[Area] = relationship(foreign_keys=[district_id], lazy="joined")
    park: Mapped[Area | None] = relationship(foreign_keys=[park_id], lazy="joined")
    officer: Mapped[User | None] = relationship(lazy="joined")
    certifications: Mapped[list["Certification"]] = relationship(  # noqa: F821
        back_populates="company", order_by="Certification.valid_from", cascade="all, delete-orphan"
    )
    years: Mapped[list["CompanyYear"]] = relationship(
        back_populates="company", order_by="CompanyYear.year", cascade="all, delete-orphan"
    )
    # The pools (培育库) it is in, newest year first; read-only: membership is written as PoolMember.
    pools: Mapped[list["Pool"]] = relationship(  # noqa: F821
        secondary="pool_member", viewonly=True, order_by="[Pool.year.desc(), Pool.kind, Pool.name]"
    )

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Company {self.uscc} {self.name}>"


class CompanyYear(db.Model):
    """One fiscal year's figures (DOMAIN §8 年度数据); amounts in 万元."""

    __tablename__ = "company_year"
    __table_args__ = (UniqueConstraint("company_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    year: Mapped[int]
    employees: Mapped[int | None]
    tech_staff: Mapped[int | None]
    revenue: Mapped[Decimal | None] = mapped_column(Money)
    rd_expense: Mapped[Decimal | None] = mapped_column(Money)
    rd_domestic: Mapped[Decimal | None] = mapped_column(Money)
    total_cost: Mapped[Decimal | None] = mapped_column(Money)
    total_assets: Mapped[Decimal | None] = mapped_column(Money)
    net_assets: Mapped[Decimal | None] = mapped_column(Money)
    high_tech_revenue: Mapped[Decimal | None] = mapped_column(Money)
    ip_class1: Mapped[int | None]
    ip_class2: Mapped[int | None]
    # Officer estimates of the 高企 innovation-score parts that figures cannot decide (DOMAIN §3.1.7).
    est_ip_other: Mapped[int | None]
    est_conversion: Mapped[int | None]
    est_rd_management: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    company: Mapped[Company] = relationship(back_populates="years")

    FIGURES = (
        "employees", "tech_staff", "revenue", "rd_expense", "rd_domestic", "total_cost", "total_assets",
        "net_assets", "high_tech_revenue", "ip_class1", "ip_class2",
        "est_ip_other", "est_conversion", "est_rd_management",
    )


class AnnualReport(db.Model):
    """A filed 高企 annual development report (年度发展情况报表) for fiscal year `year` (DOMAIN §3.3)."""

    __tablename__ = "annual_report"
    __table_args__ = (UniqueConstraint("company_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    year: Mapped[int]
    filed_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

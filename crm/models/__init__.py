"""The domain model, one module per aggregate. Import from here."""
from crm.models.area import Area, AreaAlias
from crm.models.audit import AuditLog
from crm.models.certification import Certification
from crm.models.company import AnnualReport, Company, CompanyYear
from crm.models.data_version import DataVersion
from crm.models.ladder import Application, ApplicationMove, Pool, PoolMember, Round
from crm.models.reminder import JobRun, ReminderDigest, ReminderItem
from crm.models.setting import Setting
from crm.models.target import Target
from crm.models.user import LoginAttempt, LoginSession, User, user_area
from crm.models.visit import FollowUp, FollowUpEvent, NeedCategory, Visit, visit_need, visit_officer

__all__ = [
    "AnnualReport", "Application", "ApplicationMove", "Area", "AreaAlias", "AuditLog", "Certification",
    "Company", "CompanyYear", "DataVersion", "FollowUp", "FollowUpEvent", "JobRun", "LoginAttempt", "LoginSession",
    "NeedCategory", "Pool", "PoolMember", "ReminderDigest", "ReminderItem", "Round", "Setting", "Target", "User",
    "Visit", "user_area", "visit_need", "visit_officer",
]

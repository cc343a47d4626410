"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from servicelens.alerts.models import Delivery, Notification, NotificationChannel, NotificationPreference
from servicelens.core.models import IdempotencyRecord, Job
from servicelens.customers.models import Customer, CustomerContact
from servicelens.org.models import ApiToken, Region, Team, User, UserSession
from servicelens.products.models import Component, Product
from servicelens.sla.models import (
    Calendar,
    CalendarHoliday,
    CalendarOverride,
    CalendarVersion,
    EscalationRule,
    EscalationStep,
    SlaPolicy,
    TicketSla,
)
from servicelens.tickets.models import Ticket, TicketComment, TicketEvent

__all__ = [
    "ApiToken",
    "Calendar",
    "CalendarHoliday",
    "CalendarOverride",
    "CalendarVersion",
    "Component",
    "Customer",
    "CustomerContact",
    "Delivery",
    "EscalationRule",
    "EscalationStep",
    "IdempotencyRecord",
    "Job",
    "Notification",
    "NotificationChannel",
    "NotificationPreference",
    "Product",
    "Region",
    "SlaPolicy",
    "Team",
    "Ticket",
    "TicketComment",
    "TicketEvent",
    "TicketSla",
    "User",
    "UserSession",
]

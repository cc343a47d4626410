"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from servicelens.core.models import IdempotencyRecord
from servicelens.customers.models import Customer, CustomerContact
from servicelens.org.models import ApiToken, Region, Team, User, UserSession
from servicelens.products.models import Component, Product
from servicelens.tickets.models import Ticket, TicketComment, TicketEvent

__all__ = [
    "ApiToken",
    "Component",
    "Customer",
    "CustomerContact",
    "IdempotencyRecord",
    "Product",
    "Region",
    "Team",
    "Ticket",
    "TicketComment",
    "TicketEvent",
    "User",
    "UserSession",
]

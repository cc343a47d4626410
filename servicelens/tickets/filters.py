"""The ticket-list filters as one FastAPI dependency (GET /tickets and the tickets export)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query

from servicelens.tickets.models import Channel, FlagColor, Priority, TicketStatus, TicketType
from servicelens.tickets.service import TicketFilters


def ticket_filters(
    status: Annotated[list[TicketStatus], Query()] = [],  # noqa: B006 — FastAPI copies defaults
    type: Annotated[list[TicketType], Query()] = [],  # noqa: B006
    priority: Annotated[list[Priority], Query()] = [],  # noqa: B006
    channel: Annotated[list[Channel], Query()] = [],  # noqa: B006
    team_id: Annotated[list[int], Query()] = [],  # noqa: B006
    assignee_id: Annotated[list[int], Query()] = [],  # noqa: B006
    region_id: Annotated[list[int], Query()] = [],  # noqa: B006
    customer_id: int | None = None,
    product_id: int | None = None,
    flag_color: FlagColor | None = None,
    open_only: bool = False,
    unassigned: bool = False,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    updated_from: datetime | None = None,
    updated_to: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> TicketFilters:
    """Query parameters of the ticket list, shared by GET /tickets and the tickets export."""
    return TicketFilters(
        status=[s.value for s in status],
        type=[t.value for t in type],
        priority=[p.value for p in priority],
        channel=[c.value for c in channel],
        team_id=team_id,
        assignee_id=assignee_id,
        region_id=region_id,
        customer_id=customer_id,
        product_id=product_id,
        flag_color=flag_color.value if flag_color else None,
        open_only=open_only,
        unassigned=unassigned,
        created_from=created_from,
        created_to=created_to,
        updated_from=updated_from,
        updated_to=updated_to,
        q=q,
    )

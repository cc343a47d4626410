"""The SLA set-up a Chinese service team starts from: calendar, policies and the complaint ladder.

Used by ``servicelens demo`` and offered to new installations; idempotent (matched by name).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicelens.sla import service
from servicelens.sla.models import Calendar, EscalationRule, SlaPolicy
from servicelens.sla.schemas import CalendarCreate, PolicyIn, RuleIn

CHINA_CALENDAR = "中国工作日历 China business days"


def _targets(first: float, nxt: float, resolution: float) -> list[dict[str, object]]:
    return [
        {"metric": "first_reply", "minutes": first, "clock": "business"},
        {"metric": "next_reply", "minutes": nxt, "clock": "business"},
        {"metric": "resolution", "minutes": resolution, "clock": "business"},
    ]


# position, name, conditions, targets (business minutes on 09:00–12:00 + 13:00–18:00 = 480/day)
POLICIES: list[tuple[int, str, dict[str, list[str]], list[dict[str, object]] | None]] = [
    (5, "建议类无SLA / Suggestions: no SLA", {"type": ["suggestion"]}, None),
    (10, "紧急 / Urgent", {"priority": ["urgent"]}, _targets(30, 60, 480)),
    (20, "VIP 客户 / VIP customers", {"tier": ["vip"]}, _targets(60, 120, 720)),
    (100, "常规 / Regular", {}, _targets(120, 240, 960)),
]

LADDER = "投诉2小时未响应 / Complaint unanswered 2 h"
VIP_BREACH = "VIP违约通知区域经理 / VIP breach → regional manager"


@dataclass
class DefaultsResult:
    calendar_id: int
    created: list[str]


def ensure_defaults(session: Session) -> DefaultsResult:
    created: list[str] = []
    cal = session.scalar(select(Calendar).where(Calendar.name == CHINA_CALENDAR))
    if cal is None:
        cal = service.create_calendar(session, CalendarCreate(name=CHINA_CALENDAR))
        created.append(CHINA_CALENDAR)
    names = set(session.scalars(select(SlaPolicy.name)))
    for position, name, conditions, targets in POLICIES:
        if name in names:
            continue
        service.create_policy(
            session,
            PolicyIn.model_validate(
                {
                    "name": name,
                    "position": position,
                    "conditions": conditions,
                    "no_sla": targets is None,
                    "calendar_id": cal.id,
                    "targets": targets or [],
                }
            ),
        )
        created.append(name)
    rules = set(session.scalars(select(EscalationRule.name)))
    if LADDER not in rules:
        service.create_rule(
            session,
            RuleIn.model_validate(
                {
                    "name": LADDER,
                    "position": 10,
                    "conditions": {"type": ["complaint"]},
                    "trigger": "no_first_response",
                    "levels": [
                        {
                            "after_minutes": 120,
                            "actions": [
                                {"type": "flag", "color": "red"},
                                {"type": "notify", "roles": ["team_supervisor"]},
                                {"type": "priority", "raise_levels": 1},
                            ],
                        },
                        {
                            "after_minutes": 240,
                            "actions": [{"type": "notify", "roles": ["regional_manager", "team_supervisor"]}],
                        },
                    ],
                }
            ),
        )
        created.append(LADDER)
    if VIP_BREACH not in rules:
        service.create_rule(
            session,
            RuleIn.model_validate(
                {
                    "name": VIP_BREACH,
                    "position": 20,
                    "conditions": {"tier": ["vip"]},
                    "trigger": "sla_breach",
                    "levels": [
                        {
                            "after_minutes": 0,
                            "actions": [
                                {"type": "flag", "color": "red"},
                                {"type": "notify", "roles": ["regional_manager", "assignee"]},
                            ],
                        }
                    ],
                }
            ),
        )
        created.append(VIP_BREACH)
    session.flush()
    return DefaultsResult(calendar_id=cal.id, created=created)

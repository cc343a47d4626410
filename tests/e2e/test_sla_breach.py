"""A ticket breaches its SLA while the console is open and turns red without a reload.

Walkthroughs 1 and 8: the admin's policy (calendar clock, a very short first-reply target for
inquiries of one customer) and a ladder that flags the ticket red and notifies the admins at the
breach. The ticket list (filtered to the ticket) and the ticket page are open in Chromium; the
live countdown reaches zero, the badge turns red at once, the page asks the server again and
shows the breach the scanner recorded (timeline event, red flag), and the bell counts the
escalation notification that arrived over the event stream. Then the at-risk queue, the policy
editor and preview, the ladder editor and the calendar coverage warning are checked and shot.

Needs the server's job worker (the `live_server` fixture starts the embedded one).
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.e2e.browser import VIEWPORT, Api, shot, wait_for_table, watch_errors

pytestmark = pytest.mark.e2e

# First-reply target in minutes. Short so the breach happens during the test, long enough for both
# pages to open on a slow machine first (0.3 min = 18 s).
TARGET_MINUTES = 0.3
BREACH_WAIT_MS = 60_000


def test_ticket_breaches_while_open_and_turns_red(
    base_url: str, api: Api, browser: Any, page_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    stamp = time.strftime("%H%M%S")
    customer = api.call("POST", "/customers", 201, json={"name": f"e2e SLA 客户 {stamp}", "tier": "regular"})
    conditions = {"type": ["inquiry"], "customer_id": [customer["id"]]}
    policy = api.call(
        "POST",
        "/sla/policies",
        201,
        json={
            "name": f"e2e 极速首响 {stamp}",
            "position": 0,
            "conditions": conditions,
            "targets": [
                {"metric": "first_reply", "minutes": TARGET_MINUTES, "clock": "calendar"},
                {"metric": "resolution", "minutes": 480, "clock": "calendar"},
            ],
            "pause_statuses": ["pending"],
            "warn_ratio": 0.5,
        },
    )
    rule = api.call(
        "POST",
        "/sla/escalation-rules",
        201,
        json={
            "name": f"e2e 违约即升级 {stamp}",
            "position": 0,
            "conditions": conditions,
            "trigger": "sla_breach",
            "metric": "first_reply",
            "levels": [
                {
                    "after_minutes": 0,
                    "actions": [{"type": "flag", "color": "red"}, {"type": "notify", "roles": ["admin"]}],
                }
            ],
        },
    )
    calendar = api.call("POST", "/sla/calendars", 201, json={"name": f"e2e 中国工作日 {stamp}"})
    try:
        _walk(base_url, api, browser, page_errors, stamp, customer, policy, rule, calendar, expect)
    finally:
        # Leave the shared server as it was for other tests (policies and rules are deactivated).
        api.http.delete(f"/sla/escalation-rules/{rule['id']}")
        api.http.delete(f"/sla/policies/{policy['id']}")
        api.http.delete(f"/sla/calendars/{calendar['id']}")


def _walk(base_url, api, browser, page_errors, stamp, customer, policy, rule, calendar, expect) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.add_cookies(api.cookies(base_url))
    try:
        detail = watch_errors(context.new_page(), page_errors)
        listing = watch_errors(context.new_page(), page_errors)
        # Load the console once so the ticket's countdown starts on warm pages.
        detail.goto(f"{base_url}/app/tickets?page_size=20")
        wait_for_table(detail)

        subject = f"e2e SLA 倒计时 {stamp}"
        ticket = api.call(
            "POST",
            "/tickets",
            201,
            json={"subject": subject, "type": "inquiry", "channel": "web", "customer_id": customer["id"]},
        )
        assert ticket["sla"] and ticket["sla"]["state"] == "active", ticket["sla"]
        assert ticket["sla"]["metric"] == "first_reply"

        # The ticket list filtered to the new ticket, and its detail page, both live.
        listing.goto(f"{base_url}/app/tickets?q={subject}")
        wait_for_table(listing)
        rows = listing.locator('[data-testid="ticket-table"] .el-table__body-wrapper tr.el-table__row')
        expect(rows).to_have_count(1)
        row_badge = rows.first.locator('[data-testid="sla-badge"]')
        expect(row_badge).to_have_text(re.compile(r"^剩余 \d+秒$"))

        detail.goto(f"{base_url}/app/tickets/{ticket['id']}")
        head_badge = detail.locator('[data-testid="ticket-sla"] [data-testid="sla-badge"]')
        expect(head_badge).to_contain_text(re.compile(r"首次响应\s*剩余 \d+秒"))
        expect(head_badge).to_have_attribute("data-state", re.compile("running|warning"))
        panel = detail.locator('[data-testid="sla-panel"]')
        expect(panel.locator('[data-testid="sla-policy"]')).to_have_text(policy["name"])
        expect(panel.locator('[data-testid="sla-target-first_reply"]')).to_contain_text("首次响应")
        expect(panel.locator('[data-testid="sla-target-resolution"]')).to_contain_text("8.0小时")
        # The countdown moves every second.
        first = head_badge.inner_text()
        expect(head_badge).not_to_have_text(first, timeout=3_000)
        unread_before = api.call("GET", "/notifications/unread-count")["count"]
        shot(detail, "sla-01-detail-countdown")
        shot(listing, "sla-02-list-countdown")

        # No reload from here on: a marker on each window survives only if the page stays.
        for pg in (detail, listing):
            pg.evaluate("window.__slaNoReload = true")

        # Due time passes: red at once (client side), then confirmed by the server's scanner.
        expect(head_badge).to_have_attribute("data-tone", "danger", timeout=BREACH_WAIT_MS)
        expect(head_badge).to_contain_text("已违约")
        expect(head_badge).to_have_class(re.compile(r"\bsla-badge--danger\b"))
        expect(head_badge).to_have_attribute("data-state", "breached", timeout=15_000)
        expect(detail.locator('[data-testid="tl-event-sla_breached"]')).to_have_count(1)
        expect(detail.locator('[data-testid="tl-event-sla_breached"]')).to_contain_text("SLA 违约")
        expect(detail.locator('[data-testid="tl-event-escalated"]')).to_have_count(1)
        expect(detail.locator('[data-testid="ticket-flag"]')).to_contain_text("红色告警")
        expect(panel.locator('[data-testid="sla-target-first_reply"]')).to_have_attribute("data-state", "breached")
        expect(panel.locator('[data-testid="sla-step-fired"]')).to_contain_text(rule["name"])
        color = head_badge.evaluate("el => getComputedStyle(el).backgroundColor")
        assert _is_red(color), color

        expect(row_badge).to_have_attribute("data-tone", "danger", timeout=15_000)
        expect(row_badge).to_have_text("已违约")
        expect(row_badge).to_have_attribute("data-state", "breached", timeout=15_000)
        expect(rows.first.locator('[data-testid="flag-red"]')).to_have_count(1)

        # The escalation notified the admins: the bell counts it over the event stream.
        count = detail.locator('[data-testid="notification-count"] .el-badge__content')
        expect(count).to_have_text(re.compile(r"^\d+\+?$"), timeout=15_000)
        deadline = time.monotonic() + 15
        while _unread(detail) <= unread_before and time.monotonic() < deadline:
            time.sleep(0.25)
        assert _unread(detail) > unread_before, "the escalation notification did not reach the bell"
        assert _unread(detail) == api.call("GET", "/notifications/unread-count")["count"]
        for pg in (detail, listing):
            assert pg.evaluate("window.__slaNoReload === true"), "the page was reloaded"
        shot(detail, "sla-03-detail-breached")
        shot(listing, "sla-04-list-breached")

        detail.bring_to_front()
        detail.click('[data-testid="notification-bell"]')
        item = detail.locator('[data-testid="notification-panel"] .bell__item', has_text=f"#{ticket['id']}").first
        expect(item).to_be_visible()
        expect(item).to_have_class(re.compile(r"\bis-unread\b"))
        expect(detail.locator('[data-testid="notification-status"]')).to_have_attribute("data-status", "open")
        detail.wait_for_timeout(300)  # the popover's fade-in
        shot(detail, "sla-05-bell", full_page=False)
        expect(item).to_be_visible()
        item.click()
        expect(detail).to_have_url(re.compile(rf"/app/tickets/{ticket['id']}$"))

        # The supervisor's queue: the breached ticket is listed, red, with how long it is overdue.
        listing.goto(f"{base_url}/app/sla/at-risk?within=1440")
        wait_for_table(listing, "at-risk-table")
        at_risk = listing.locator('[data-testid="at-risk-table"] tr.el-table__row', has_text=subject)
        expect(at_risk).to_have_count(1)
        expect(at_risk.locator('[data-testid="sla-badge"]')).to_contain_text("已违约 · 超时")
        expect(listing.locator('[data-testid="node-check-responded_within_2h"]')).to_contain_text("首响2小时达标率")
        expect(
            listing.locator('[data-testid="node-check-resolved_within_48h"] [data-testid="node-share"]')
        ).to_have_text(re.compile(r"^(\d{1,3}\.\d%|—)$"))
        shot(listing, "sla-06-at-risk")

        # Admin pages: the policy editor, the preview for this ticket, the ladder, the calendar.
        listing.goto(f"{base_url}/app/settings/sla-policies/{policy['id']}")
        expect(listing.locator('input[data-testid="policy-name"]')).to_have_value(policy["name"])
        expect(listing.locator('[data-testid="targets-table"] tr.el-table__row')).to_have_count(2)
        shot(listing, "sla-07-policy-editor")

        listing.goto(f"{base_url}/app/settings/sla-policies")
        listing.locator('[data-testid="preview-ticket"] input').fill(str(ticket["id"]))
        listing.click('[data-testid="preview-run"]')
        result = listing.locator('[data-testid="preview-result"]')
        expect(result.locator('[data-testid="preview-policy"]')).to_have_text(policy["name"])
        expect(result.locator('[data-testid="preview-targets"]')).to_contain_text("首次响应")
        shot(listing, "sla-08-policy-preview")

        listing.goto(f"{base_url}/app/settings/escalation-rules/{rule['id']}")
        expect(listing.locator('[data-testid="level-0"]')).to_be_visible()
        # A loop: the ladder flags the ticket while the rule matches on the flag colour.
        listing.click('[data-testid="cond-flag"]')
        listing.locator(".el-select-dropdown__item:visible", has_text="红色告警").first.click()
        listing.keyboard.press("Escape")
        listing.click('[data-testid="rule-save"]')
        expect(listing.locator('[data-testid="level-0-action-0-error"]')).to_contain_text("循环")
        shot(listing, "sla-09-rule-ladder-loop")

        # The calendar: weekly hours with the lunch break, and the warning for years without holiday
        # data (chinese-calendar covers up to 2026) until the admin imports the published schedule.
        listing.goto(f"{base_url}/app/settings/calendars/{calendar['id']}")
        banner = listing.locator('[data-testid="coverage-warning"]')
        assert 2027 in calendar["coverage_warnings"], calendar["coverage_warnings"]
        years = "、".join(str(y) for y in calendar["coverage_warnings"])
        expect(banner).to_contain_text(f"缺少 {years} 年节假日数据")
        monday = listing.locator('[data-testid="version-table"] tr.el-table__row td').nth(1)
        expect(monday).to_contain_text("09:00–12:00")
        expect(monday).to_contain_text("13:00–18:00")
        shot(listing, "sla-10-calendar")

        listing.get_by_role("tab", name="节假日数据").click()
        csv = "\n".join(
            [
                "date,kind,name",
                "2027-01-01,holiday,元旦",
                "2027-02-06,休,春节",
                "2027-13-01,holiday,坏日期",  # row 4: no such date
                "2027-02-14,work,情人节",  # row 5: unknown kind
            ]
        )
        listing.locator('[data-testid="holiday-upload"] input[type="file"]').set_input_files(
            files=[{"name": "holidays-2027.csv", "mimeType": "text/csv", "buffer": csv.encode("utf-8")}]
        )
        result = listing.locator('[data-testid="import-result"]')
        expect(result).to_contain_text("已导入 2 天")
        errors = result.locator('[data-testid="import-errors"] tr.el-table__row')
        expect(errors).to_have_count(2)
        expect(errors.nth(0)).to_contain_text("4")
        expect(errors.nth(1)).to_contain_text("workday")
        if calendar["coverage_warnings"] == [2027]:
            expect(banner).to_have_count(0)  # 2027 now has holiday data
        expect(listing.locator('[data-testid="holiday-table"]')).to_contain_text("元旦")
        shot(listing, "sla-11-calendar-holidays")

        # Compute preview: Friday 17:00 + 120 business minutes = Monday 10:00.
        listing.get_by_role("tab", name="计算预览").click()
        start = listing.locator(".el-tab-pane:visible input").first
        start.fill("2026-11-27 17:00:00")
        start.press("Enter")
        listing.locator('[data-testid="compute-minutes"] input').fill("120")
        listing.click('[data-testid="compute-run"]')
        expect(listing.locator('[data-testid="compute-due"]')).to_have_text("2026-11-30 10:00:00")
        shot(listing, "sla-12-calendar-compute")
    finally:
        context.close()


def _unread(pg: Any) -> int:
    badge = pg.locator('[data-testid="notification-count"] .el-badge__content')
    if not badge.count() or not badge.is_visible():
        return 0
    text = badge.inner_text().strip().rstrip("+")
    return int(text) if text.isdigit() else 0


def _is_red(css_color: str) -> bool:
    m = re.match(r"rgba?\((\d+), (\d+), (\d+)", css_color)
    assert m, css_color
    r, g, b = (int(x) for x in m.groups())
    return r > 200 and g < 120 and b < 120

"""Browser walk of user story 2 (agent working the queue) through the real web UI.

Fixtures in tests/e2e/conftest.py: the `live_server` (demo data) or SERVICELENS_E2E_BASE_URL,
Debian's Chromium (/usr/bin/chromium); screenshots go to screenshots/ (gitignored).
"""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.browser import Api, shot, wait_for_table

pytestmark = pytest.mark.e2e


def test_agent_comments_and_moves_a_ticket(base_url: str, api: Api, page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    # The morning's queue: a ticket the dispatcher gave agent1 (the demo data's own open tickets
    # depend on the day the data is generated).
    agent = next(u for u in api.call("GET", "/users", params={"q": "agent1"})["items"] if u["username"] == "agent1")
    queued = {"subject": "洗衣机脱水时异响（e2e）", "type": "repair", "assignee_id": agent["id"]}
    queued["team_id"] = agent["team_id"]
    assert api.call("POST", "/tickets", 201, json=queued)["status"] == "assigned"

    pg = page
    # Not logged in: any console URL lands on the login page (zh-CN by default).
    pg.goto(f"{base_url}/app/tickets")
    expect(pg.locator('input[data-testid="login-username"]')).to_be_visible()
    expect(pg.get_by_role("heading", name="服务质量监控与管理平台")).to_be_visible()

    # A wrong password shows the problem details.
    pg.fill('input[data-testid="login-username"]', "agent1")
    pg.fill('input[data-testid="login-password"]', "not-the-password")
    pg.click('[data-testid="login-submit"]')
    expect(pg.locator('[data-testid="login-error"]')).to_contain_text("用户名或密码错误")
    shot(pg, "e2e-01-login-error")

    pg.fill('input[data-testid="login-password"]', "agent12345")
    pg.click('[data-testid="login-submit"]')

    # Back on the ticket list (the page asked for before logging in).
    expect(pg).to_have_url(re.compile(r"/app/tickets"))
    rows = pg.locator('[data-testid="ticket-table"] .el-table__body-wrapper tr.el-table__row')
    wait_for_table(pg)
    expect(rows.first).to_be_visible()
    expect(pg.locator('[data-testid="breadcrumbs"]')).to_contain_text("工单列表")

    # Filter by status 已分配 through the form: the filter goes into the URL.
    pg.click('[data-testid="filter-status"]')
    pg.locator(".el-select-dropdown__item:visible", has_text="已分配").first.click()
    pg.keyboard.press("Escape")
    pg.click('[data-testid="filter-search"]')
    expect(pg).to_have_url(re.compile(r"[?&]status=assigned"))
    wait_for_table(pg)
    expect(rows.first, "the seeded data must hold an 'assigned' ticket that agent1 can see").to_be_visible()
    status_cells = pg.locator('[data-testid="ticket-table"] .enum-tag--status')
    expect(status_cells.first).to_have_text("已分配")
    shot(pg, "e2e-02-ticket-list")

    # Open the first assigned ticket.
    rows.first.locator("td").nth(2).click()
    expect(pg).to_have_url(re.compile(r"/app/tickets/\d+$"))
    status = pg.locator('[data-testid="ticket-status"]')
    expect(status).to_have_text("已分配")
    expect(pg.locator('[data-testid="transition-in_progress"]')).to_be_visible()

    # A public reply appears in the timeline.
    body = f"您好，工程师将于明天上午上门检查。(e2e {int(time.time())})"
    pg.fill('textarea[data-testid="comment-body"]', body)
    pg.click('[data-testid="comment-send"]')
    comment = pg.locator('[data-testid="tl-comment-public"]', has_text=body)
    expect(comment).to_be_visible()
    expect(comment).to_contain_text("公开回复")

    # Move to 处理中: the header and the timeline show the change.
    pg.click('[data-testid="transition-in_progress"]')
    expect(status).to_have_text("处理中")
    change = pg.locator('[data-testid="tl-event-status_changed"]').first
    expect(change).to_contain_text("状态变更")
    expect(change.locator(".enum-tag--status").last).to_have_text("处理中")
    expect(pg.locator('[data-testid="transition-in_progress"]')).to_have_count(0)
    shot(pg, "e2e-03-ticket-in-progress")

    # Switch to English: labels change, and the choice survives a reload.
    pg.click('[data-testid="lang-switch"]')
    pg.click('[data-testid="lang-en"]')
    expect(status).to_have_text("In progress")
    expect(pg.locator('[data-testid="menu-tickets"]')).to_have_text("Tickets")
    expect(pg.locator('[data-testid="ticket-timeline"]')).to_contain_text("Status changed")
    pg.reload()
    expect(pg.locator('[data-testid="ticket-status"]')).to_have_text("In progress")
    shot(pg, "e2e-04-ticket-english")

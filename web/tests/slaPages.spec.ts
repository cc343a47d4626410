import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import ElementPlus from 'element-plus'
import { i18n, setLocale } from '@/i18n'
import type { TicketSummary } from '@/api/types'
import TicketListPage from '@/pages/tickets/TicketListPage.vue'
import TicketDetailPage from '@/pages/tickets/TicketDetailPage.vue'
import AtRiskPage from '@/pages/sla/AtRiskPage.vue'
import RuleEditPage from '@/pages/settings/RuleEditPage.vue'
import PolicyListPage from '@/pages/settings/PolicyListPage.vue'
import { emptyPage, json, referenceResponse, ticketDetail } from './fixtures'

const NOW = Date.parse('2026-03-03T02:00:00Z')
const iso = (offsetMs: number) => new Date(NOW + offsetMs).toISOString()

function makeRouter() {
  const stub = { template: '<div />' }
  return createRouter({
    history: createMemoryHistory('/app/'),
    routes: [
      { path: '/tickets', name: 'tickets', component: TicketListPage },
      { path: '/tickets/:id', name: 'ticket', component: stub },
      { path: '/customers/:id', name: 'customer', component: stub },
      { path: '/sla/at-risk', name: 'sla-at-risk', component: AtRiskPage },
      { path: '/settings/escalation-rules', name: 'rules', component: stub },
      { path: '/settings/escalation-rules/new', name: 'rule-new', component: stub },
      { path: '/settings/escalation-rules/:id', name: 'rule-edit', component: stub },
      { path: '/settings/sla-policies', name: 'policies', component: stub },
      { path: '/settings/sla-policies/new', name: 'policy-new', component: stub },
      { path: '/settings/sla-policies/:id', name: 'policy-edit', component: stub },
      { path: '/', component: stub },
    ],
  })
}

let fetchMock: ReturnType<typeof vi.fn>

beforeEach(() => {
  setActivePinia(createPinia())
  setLocale('zh-CN')
  fetchMock = vi.fn()
  vi.stubGlobal('fetch', fetchMock)
  document.body.innerHTML = ''
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

async function mountPage(component: unknown, props: Record<string, unknown> = {}, path = '/') {
  const router = makeRouter()
  await router.push(path)
  const wrapper = mount(component as never, {
    props: props as never,
    attachTo: document.body,
    global: { plugins: [i18n, router, ElementPlus] },
  })
  await flushPromises()
  return { wrapper, router }
}

function summary(id: number, extra: Partial<TicketSummary> = {}): TicketSummary {
  const { description: _d, timeline: _t, allowed_transitions: _a, ...rest } = ticketDetail({ id, flag_color: 'none' })
  void _d
  void _t
  void _a
  return { ...rest, ...extra } as TicketSummary
}

describe('TicketListPage SLA column', () => {
  it('counts down, turns red at the due time and confirms the breach by refetching only that ticket', async () => {
    vi.useFakeTimers({ now: NOW, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
    const due = iso(4_000)
    let confirmed = false
    const listCalls: string[] = []
    const getCalls: string[] = []
    fetchMock.mockImplementation(async (url: string) => {
      const ref = referenceResponse(url)
      if (ref) return ref
      if (url.startsWith('/api/v1/tickets?')) {
        listCalls.push(url)
        return json(200, {
          items: [
            summary(7, { sla: { metric: 'first_reply', state: 'active', due_at: due, warned: false, breached_at: null } }),
            summary(8, { sla: { metric: 'resolution', state: 'paused', due_at: null, warned: false, breached_at: null } }),
            summary(9, { sla: null }),
          ],
          total: 3,
          page: 1,
          page_size: 20,
        })
      }
      if (url === '/api/v1/tickets/7') {
        getCalls.push(url)
        return json(
          200,
          ticketDetail({
            id: 7,
            flag_color: confirmed ? 'red' : 'none',
            sla: confirmed
              ? { metric: 'first_reply', state: 'breached', due_at: due, warned: true, breached_at: due }
              : { metric: 'first_reply', state: 'active', due_at: due, warned: true, breached_at: null },
          }),
        )
      }
      return emptyPage()
    })
    const { wrapper } = await mountPage(TicketListPage, {}, '/tickets')
    const badges = () => [...document.querySelectorAll('[data-testid="ticket-table"] [data-testid="sla-badge"]')] as HTMLElement[]
    expect(badges().map((b) => b.textContent?.trim())).toEqual(['剩余 4秒', '已暂停', '—'])
    await vi.advanceTimersByTimeAsync(4_000)
    expect(badges()[0].dataset.state).toBe('overdue')
    expect(badges()[0].className).toContain('sla-badge--danger')
    expect(badges()[0].textContent?.trim()).toBe('已违约')
    // The server has not recorded it yet at the first look; the second look confirms it.
    await vi.advanceTimersByTimeAsync(2_500)
    expect(getCalls).toHaveLength(1)
    confirmed = true
    await vi.advanceTimersByTimeAsync(2_000)
    expect(getCalls).toHaveLength(2)
    await flushPromises()
    expect(badges()[0].dataset.state).toBe('breached')
    expect(document.querySelectorAll('[data-testid="flag-red"]')).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(20_000)
    expect(getCalls).toHaveLength(2)
    expect(listCalls).toHaveLength(1) // never reloaded the list
    wrapper.unmount()
  })
})

describe('TicketDetailPage SLA panel', () => {
  it('lists every target with zh labels and the escalation steps', async () => {
    fetchMock.mockImplementation(async (url: string) => {
      if (url === '/api/v1/tickets/7/sla') {
        return json(200, {
          ticket_id: 7,
          policy: { id: 3, name: 'VIP 投诉' },
          targets: [
            { id: 1, metric: 'first_reply', cycle: 1, clock: 'business', target_minutes: 30, state: 'breached', warned: true, started_at: iso(-3600_000), due_at: iso(-1800_000), warn_at: null, fulfilled_at: null, breached_at: iso(-1800_000), used_minutes: 60, breach_minutes: 30, statutory_coverage: true },
            { id: 2, metric: 'resolution', cycle: 1, clock: 'business', target_minutes: 960, state: 'active', warned: false, started_at: iso(-3600_000), due_at: iso(86_400_000), warn_at: null, fulfilled_at: null, breached_at: null, used_minutes: 60, breach_minutes: 0, statutory_coverage: false },
          ],
          escalations: [{ rule_id: 2, rule: '投诉两小时', level: 1, due_at: iso(-600_000), state: 'fired', fired_at: iso(-600_000) }],
          warnings: ['calendar.no_holiday_data'],
        })
      }
      return referenceResponse(url) ?? json(200, ticketDetail({ sla: { metric: 'first_reply', state: 'breached', due_at: iso(-1800_000), warned: true, breached_at: iso(-1800_000) } }))
    })
    const { wrapper } = await mountPage(TicketDetailPage, { id: 7 })
    const head = wrapper.get('[data-testid="ticket-sla"] [data-testid="sla-badge"]')
    expect(head.attributes('data-state')).toBe('breached')
    expect(head.text()).toContain('首次响应')
    expect(head.text()).toContain('已违约')
    expect(wrapper.get('[data-testid="sla-policy"]').text()).toBe('VIP 投诉')
    const first = wrapper.get('[data-testid="sla-target-first_reply"]')
    expect(first.text()).toContain('首次响应')
    expect(first.text()).toContain('超时 30分钟')
    const resolution = wrapper.get('[data-testid="sla-target-resolution"]')
    expect(resolution.text()).toContain('解决')
    expect(resolution.text()).toContain('目标 16.0小时 · 工作时间')
    expect(wrapper.get('[data-testid="sla-panel"]').text()).toContain('缺少节假日数据')
    expect(wrapper.get('[data-testid="sla-step-fired"]').text()).toContain('投诉两小时 · 第 1 级')
    setLocale('en')
    await flushPromises()
    expect(wrapper.get('[data-testid="sla-target-first_reply"]').text()).toContain('First reply')
    wrapper.unmount()
  })
})

describe('AtRiskPage', () => {
  it('shows node checks with 1-decimal shares and pass/fail, the queue, and refreshes every 15 s', async () => {
    vi.useFakeTimers({ now: NOW, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
    const calls: string[] = []
    fetchMock.mockImplementation(async (url: string) => {
      calls.push(url)
      if (url.startsWith('/api/v1/sla/node-checks')) {
        return json(200, [
          { check: 'responded_within_2h', metric: 'first_response', threshold_minutes: 120, clock: 'calendar', target_share: 0.9, met: 183, missed: 17, immature: 0, share: 0.915, passed: true },
          { check: 'resolved_within_48h', metric: 'resolution', threshold_minutes: 2880, clock: 'calendar', target_share: 0.8, met: 1, missed: 3, immature: 4, share: 0.25, passed: false },
        ])
      }
      if (url.startsWith('/api/v1/sla/at-risk')) {
        return json(200, [
          { ticket_id: 11, subject: '热水器漏水', priority: 'urgent', status: 'assigned', flag_color: 'red', assignee_id: null, team_id: 1, metric: 'first_reply', state: 'breached', due_at: iso(-130 * 60_000), minutes_left: -130 },
          { ticket_id: 12, subject: '安装预约', priority: 'normal', status: 'new', flag_color: 'none', assignee_id: null, team_id: 1, metric: 'resolution', state: 'active', due_at: iso(25 * 60_000), minutes_left: 25 },
        ])
      }
      return emptyPage()
    })
    const { wrapper, router } = await mountPage(AtRiskPage, {}, '/sla/at-risk?team_id=1&within=120')
    const atRisk = calls.find((u) => u.startsWith('/api/v1/sla/at-risk'))!
    const params = new URL(atRisk, 'http://x').searchParams
    expect(params.get('within_minutes')).toBe('120')
    expect(params.get('team_id')).toBe('1')
    const first = wrapper.get('[data-testid="node-check-responded_within_2h"]')
    expect(first.text()).toContain('首响2小时达标率')
    expect(first.get('[data-testid="node-share"]').text()).toBe('91.5%')
    expect(first.attributes('data-pass')).toBe('pass')
    expect(first.text()).toContain('目标 ≥ 90.0%')
    expect(first.text()).toContain('达标 183')
    const second = wrapper.get('[data-testid="node-check-resolved_within_48h"]')
    expect(second.get('[data-testid="node-share"]').text()).toBe('25.0%')
    expect(second.attributes('data-pass')).toBe('fail')
    expect(second.text()).toContain('未到期 4')
    const badges = [...document.querySelectorAll('[data-testid="at-risk-table"] [data-testid="sla-badge"]')].map((b) => b.textContent?.trim())
    expect(badges).toEqual(['已违约 · 超时 2.2小时', '剩余 25分钟'])
    expect(wrapper.get('[data-testid="count-breached"]').text()).toContain('1')
    const before = calls.filter((u) => u.startsWith('/api/v1/sla/at-risk')).length
    await vi.advanceTimersByTimeAsync(15_000)
    expect(calls.filter((u) => u.startsWith('/api/v1/sla/at-risk')).length).toBe(before + 1)
    ;(document.querySelectorAll('[data-testid="at-risk-table"] .el-table__body tr.el-table__row td')[2] as HTMLElement).click()
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/tickets/11')
    wrapper.unmount()
  })
})

describe('RuleEditPage', () => {
  it('checks the ladder before sending, then shows the server 422 loop error on the action that loops', async () => {
    fetchMock.mockImplementation(async (url: string, init?: RequestInit) => {
      if (url === '/api/v1/sla/escalation-rules' && init?.method === 'POST') {
        const reason = "the 'flag' action changes flag_color, which this rule's conditions test: the rule would re-trigger itself (loop)"
        return json(422, {
          type: 'about:blank',
          title: 'Invalid escalation rule',
          status: 422,
          code: 'escalation.loop',
          detail: reason,
          errors: [{ field: 'levels.0.actions.0', reason }],
        })
      }
      if (url.startsWith('/api/v1/admin/channels')) return json(200, { items: [], total: 0, page: 1, page_size: 100 })
      return referenceResponse(url) ?? emptyPage()
    })
    const { wrapper } = await mountPage(RuleEditPage, {})
    const posts = () => fetchMock.mock.calls.filter(([u, i]) => u === '/api/v1/sla/escalation-rules' && (i as RequestInit)?.method === 'POST')

    // Client-side checks first: no name, a level without actions.
    await wrapper.get('[data-testid="level-0-action-0-remove"]').trigger('click')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    await new Promise((r) => setTimeout(r, 150)) // el-form-item shows its error debounced
    expect(wrapper.text()).toContain('请输入名称')
    expect(wrapper.text()).toContain('每一级至少一个动作')
    expect(posts()).toHaveLength(0)

    // Fixed locally; the server still rejects it (a loop it knows about): shown on that action.
    await wrapper.get('input[data-testid="rule-name"]').setValue('自我循环')
    await wrapper.get('[data-testid="level-0-add-action"]').trigger('click')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(posts()).toHaveLength(1)
    expect(JSON.parse((posts()[0][1] as RequestInit).body as string)).toEqual({
      name: '自我循环',
      position: 100,
      is_active: true,
      conditions: {},
      trigger: 'sla_breach',
      metric: null,
      levels: [{ after_minutes: 0, actions: [{ type: 'notify', roles: ['team_supervisor'], user_ids: [] }] }],
    })
    expect(wrapper.get('[data-testid="rule-loop-error"]').text()).toContain('规则会形成循环')
    expect(wrapper.get('[data-testid="level-0-action-0-error"]').text()).toContain('循环')
    wrapper.unmount()
  })
})

describe('PolicyListPage preview', () => {
  it('answers which policy applies to a ticket and its deadlines', async () => {
    fetchMock.mockImplementation(async (url: string, init?: RequestInit) => {
      if (url === '/api/v1/sla/policies') {
        return json(200, [
          { id: 1, name: '紧急工单', position: 10, is_active: true, no_sla: false, conditions: { priority: ['urgent'] }, calendar_id: 1, targets: [{ metric: 'first_reply', minutes: 30, clock: 'business', priorities: [] }], pause_statuses: ['pending'], warn_ratio: 0.8, created_at: iso(0), updated_at: iso(0) },
        ])
      }
      if (url === '/api/v1/sla/calendars') return json(200, [{ id: 1, name: '中国工作日', tz: 'Asia/Shanghai', observe_statutory: true, statutory_region: 'CN', versions: [], overrides: [], holidays: [], coverage_warnings: [2027], updated_at: iso(0) }])
      if (url === '/api/v1/sla/preview') {
        expect(JSON.parse(init!.body as string)).toEqual({ ticket_id: 7 })
        return json(200, {
          policy: { id: 1, name: '紧急工单' },
          no_sla: false,
          targets: [
            { metric: 'first_reply', minutes: 30, clock: 'business', due_at: '2026-03-03T02:30:00Z', warn_at: '2026-03-03T02:24:00Z' },
            { metric: 'next_reply', minutes: 60, clock: 'business', due_at: null },
          ],
          warnings: ['calendar.no_holiday_data:2027'],
        })
      }
      return referenceResponse(url) ?? emptyPage()
    })
    const { wrapper } = await mountPage(PolicyListPage, {})
    expect(wrapper.get('[data-testid="policy-table"]').text()).toContain('优先级：紧急')
    expect(wrapper.get('[data-testid="policy-table"]').text()).toContain('首次响应 30分钟')
    await wrapper.get('[data-testid="preview-ticket"] input').setValue('7')
    await wrapper.get('[data-testid="preview-run"]').trigger('click')
    await wrapper.get('[data-testid="policy-preview"] form').trigger('submit')
    await flushPromises()
    const result = wrapper.get('[data-testid="preview-result"]')
    expect(result.get('[data-testid="preview-policy"]').text()).toBe('紧急工单')
    expect(result.text()).toContain('2026-03-03 10:30:00')
    expect(result.text()).toContain('每次客户回复后重新计时')
    expect(result.text()).toContain('缺少 2027 年节假日数据')
    wrapper.unmount()
  })
})

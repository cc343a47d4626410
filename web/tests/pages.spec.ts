import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import ElementPlus from 'element-plus'
import { i18n, setLocale } from '@/i18n'
import LoginPage from '@/pages/LoginPage.vue'
import TicketDetailPage from '@/pages/tickets/TicketDetailPage.vue'
import { json, referenceResponse, ticketDetail } from './fixtures'
import TicketListPage from '@/pages/tickets/TicketListPage.vue'
import type { TicketSummary } from '@/api/types'

function makeRouter() {
  const stub = { template: '<div />' }
  return createRouter({
    history: createMemoryHistory('/app/'),
    routes: [
      { path: '/login', name: 'login', component: stub },
      { path: '/tickets', name: 'tickets', component: TicketListPage },
      { path: '/tickets/:id', name: 'ticket', component: stub },
      { path: '/customers/:id', name: 'customer', component: stub },
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

describe('LoginPage', () => {
  it('shows the problem detail of a failed login', async () => {
    fetchMock.mockImplementation(async () =>
      json(401, { type: 'about:blank', title: 'Unauthorized', status: 401, detail: '用户名或密码错误', code: 'auth.invalid_credentials' }),
    )
    const { wrapper } = await mountPage(LoginPage, {}, '/login')
    await wrapper.get('input[data-testid="login-username"]').setValue('agent1')
    await wrapper.get('input[data-testid="login-password"]').setValue('wrong')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    await flushPromises()
    expect(wrapper.get('[data-testid="login-error"]').text()).toContain('用户名或密码错误')
    wrapper.unmount()
  })

  it('shows the rate-limit detail and the retry delay on 429', async () => {
    fetchMock.mockImplementation(
      async () =>
        new Response(JSON.stringify({ title: 'Too Many Requests', status: 429, detail: 'Too many login attempts', code: 'auth.rate_limited' }), {
          status: 429,
          headers: { 'Content-Type': 'application/problem+json', 'Retry-After': '60' },
        }),
    )
    setLocale('en')
    const { wrapper } = await mountPage(LoginPage, {}, '/login')
    await wrapper.get('input[data-testid="login-username"]').setValue('agent1')
    await wrapper.get('input[data-testid="login-password"]').setValue('x')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    await flushPromises()
    const text = wrapper.get('[data-testid="login-error"]').text()
    expect(text).toContain('Too many login attempts')
    expect(text).toContain('Try again in 60 seconds.')
    wrapper.unmount()
  })

  it('logs in and follows the redirect', async () => {
    fetchMock.mockImplementation(async () =>
      json(200, {
        user: { id: 2, username: 'agent1', display_name: '坐席一', role: 'agent', team_id: 1, region_id: 1, locale: 'zh-CN' },
        csrf_token: 'c',
      }),
    )
    const { wrapper, router } = await mountPage(LoginPage, {}, '/login?redirect=/tickets/7')
    await wrapper.get('input[data-testid="login-username"]').setValue('agent1')
    await wrapper.get('input[data-testid="login-password"]').setValue('agent12345')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/tickets/7')
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit]
    expect(url).toBe('/api/v1/auth/login')
    expect(JSON.parse(init.body as string)).toEqual({ username: 'agent1', password: 'agent12345' })
    wrapper.unmount()
  })
})

describe('TicketDetailPage', () => {
  it('renders the header, allowed transitions and the timeline with zh/en labels', async () => {
    fetchMock.mockImplementation(async (url: string) => referenceResponse(url) ?? json(200, ticketDetail()))
    const { wrapper } = await mountPage(TicketDetailPage, { id: 7 })
    expect(wrapper.get('[data-testid="ticket-subject"]').text()).toBe('热水器漏水')
    expect(wrapper.get('[data-testid="ticket-status"]').text()).toBe('已分配')
    expect(wrapper.find('[data-testid="ticket-flag"]').text()).toContain('红色告警')
    const buttons = wrapper.findAll('[data-testid^="transition-"]').map((b) => b.attributes('data-testid'))
    expect(buttons).toEqual(['transition-in_progress', 'transition-pending_customer', 'transition-on_hold', 'transition-resolved'])
    expect(wrapper.get('[data-testid="tl-event-status_changed"]').text()).toContain('状态变更')
    setLocale('en')
    await flushPromises()
    expect(wrapper.get('[data-testid="ticket-status"]').text()).toBe('Assigned')
    expect(wrapper.get('[data-testid="transition-in_progress"]').text()).toBe('Start work')
    wrapper.unmount()
  })

  it('sends the version with a transition and shows the new status', async () => {
    let detail = ticketDetail()
    fetchMock.mockImplementation(async (url: string, init?: RequestInit) => {
      const ref = referenceResponse(url)
      if (ref) return ref
      if (url === '/api/v1/tickets/7/transition') {
        const body = JSON.parse(init!.body as string)
        expect(body).toEqual({ to_status: 'in_progress', version: 3 })
        detail = ticketDetail({ status: 'in_progress', version: 4, allowed_transitions: ['pending_customer', 'resolved'] })
        return json(200, detail)
      }
      return json(200, detail)
    })
    const { wrapper } = await mountPage(TicketDetailPage, { id: 7 })
    await wrapper.get('[data-testid="transition-in_progress"]').trigger('click')
    await flushPromises()
    expect(wrapper.get('[data-testid="ticket-status"]').text()).toBe('处理中')
    wrapper.unmount()
  })

  it('on a version conflict tells the user and reloads the ticket', async () => {
    let gets = 0
    fetchMock.mockImplementation(async (url: string) => {
      const ref = referenceResponse(url)
      if (ref) return ref
      if (url === '/api/v1/tickets/7/transition')
        return json(409, { title: 'Conflict', status: 409, detail: 'stale version', code: 'ticket.version_conflict' })
      gets += 1
      return json(200, gets === 1 ? ticketDetail() : ticketDetail({ status: 'pending_customer', version: 5, allowed_transitions: ['in_progress'] }))
    })
    const { wrapper } = await mountPage(TicketDetailPage, { id: 7 })
    await wrapper.get('[data-testid="transition-in_progress"]').trigger('click')
    await flushPromises()
    expect(gets).toBe(2)
    expect(document.body.textContent).toContain('该工单已被他人修改，已重新加载。')
    expect(wrapper.get('[data-testid="ticket-status"]').text()).toBe('待客户回复')
    wrapper.unmount()
  })

  it('posts a comment with its visibility', async () => {
    fetchMock.mockImplementation(async (url: string, init?: RequestInit) => {
      const ref = referenceResponse(url)
      if (ref) return ref
      if (url === '/api/v1/tickets/7/comments') {
        const body = JSON.parse(init!.body as string)
        return json(
          200,
          ticketDetail({
            timeline: [
              ...ticketDetail().timeline,
              { kind: 'comment', id: 9, at: '2025-03-03T02:00:00Z', actor: { id: 2, display_name: '坐席一' }, body: body.body, public: body.public, author_kind: 'agent' },
            ],
          }),
        )
      }
      return json(200, ticketDetail())
    })
    const { wrapper } = await mountPage(TicketDetailPage, { id: 7 })
    await wrapper.get('textarea[data-testid="comment-body"]').setValue('内部跟进')
    await wrapper.get('[data-testid="comment-internal"] input').setValue(true)
    await wrapper.get('[data-testid="comment-send"]').trigger('click')
    await flushPromises()
    const call = fetchMock.mock.calls.find(([u]) => u === '/api/v1/tickets/7/comments') as [string, RequestInit]
    expect(JSON.parse(call[1].body as string)).toEqual({ body: '内部跟进', public: false })
    expect(wrapper.get('[data-testid="tl-comment-internal"]').text()).toContain('内部跟进')
    wrapper.unmount()
  })
})

describe('TicketListPage', () => {
  function summary(id: number, extra: Partial<TicketSummary> = {}): TicketSummary {
    const { description: _d, timeline: _t, allowed_transitions: _a, ...rest } = ticketDetail({ id })
    void _d
    void _t
    void _a
    return { ...rest, ...extra } as TicketSummary
  }

  it('sends the URL filters to the API and renders coloured tags and the red flag', async () => {
    const listCalls: string[] = []
    fetchMock.mockImplementation(async (url: string) => {
      const ref = referenceResponse(url)
      if (ref) return ref
      listCalls.push(url)
      return json(200, { items: [summary(7), summary(8, { flag_color: 'none', status: 'new', priority: 'low' })], total: 1234, page: 2, page_size: 20 })
    })
    const router = (await mountPage(TicketListPage, {}, '/tickets?status=new&status=assigned&priority=urgent&page=2&sort=priority&created_from=2025-03-01&created_to=2025-03-31')).router
    expect(listCalls).toHaveLength(1)
    const params = new URL(listCalls[0], 'http://x').searchParams
    expect(params.getAll('status')).toEqual(['new', 'assigned'])
    expect(params.getAll('priority')).toEqual(['urgent'])
    expect(params.get('page')).toBe('2')
    expect(params.get('sort')).toBe('priority')
    expect(params.get('created_from')).toBe('2025-03-01T00:00:00+08:00')
    expect(params.get('created_to')).toBe('2025-04-01T00:00:00+08:00')
    const text = document.body.textContent ?? ''
    expect(text).toContain('共 1,234 条')
    expect(document.querySelectorAll('[data-testid="flag-red"]')).toHaveLength(1)
    const statusTags = [...document.querySelectorAll('.enum-tag--status')].map((e) => e.textContent?.trim())
    expect(statusTags).toEqual(['已分配', '新建'])
    expect(document.querySelector('.enum-tag--priority-high')?.className).toContain('el-tag--warning')
    expect(document.querySelector('[data-testid="ticket-total"]')?.textContent).toBe('共 1,234 条')
    // Clicking a row opens the ticket.
    ;(document.querySelectorAll('.el-table__body tr.el-table__row td')[3] as HTMLElement).click()
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/tickets/7')
  })

  it('says "more than" when the API stopped counting', async () => {
    fetchMock.mockImplementation(async (url: string) => {
      const ref = referenceResponse(url)
      if (ref) return ref
      return json(200, { items: [summary(7)], total: 10000, total_exact: false, page: 1, page_size: 20 })
    })
    await mountPage(TicketListPage, {}, '/tickets')
    expect(document.querySelector('[data-testid="ticket-total"]')?.textContent).toBe('超过 10,000 条，请缩小筛选范围')
  })
})

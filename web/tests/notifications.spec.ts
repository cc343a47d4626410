import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { flushPromises, mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import ElementPlus from 'element-plus'
import { i18n, setLocale } from '@/i18n'
import type { Notification } from '@/api/types'
import { BACKOFF_MAX_MS, backoffDelay, useNotificationStore } from '@/stores/notifications'
import NotificationBell from '@/components/NotificationBell.vue'
import { json } from './fixtures'

/** A controllable stand-in for the browser's EventSource. */
class MockEventSource {
  static CONNECTING = 0
  static OPEN = 1
  static CLOSED = 2
  static instances: MockEventSource[] = []
  readonly CONNECTING = 0
  readonly OPEN = 1
  readonly CLOSED = 2
  url: string
  withCredentials: boolean
  readyState = 0
  onopen: ((ev: Event) => void) | null = null
  onerror: ((ev: Event) => void) | null = null
  onmessage: ((ev: MessageEvent) => void) | null = null
  private listeners = new Map<string, Set<(ev: MessageEvent) => void>>()

  constructor(url: string, init?: EventSourceInit) {
    this.url = url
    this.withCredentials = !!init?.withCredentials
    MockEventSource.instances.push(this)
  }
  addEventListener(type: string, fn: (ev: MessageEvent) => void) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set())
    this.listeners.get(type)!.add(fn)
  }
  removeEventListener(type: string, fn: (ev: MessageEvent) => void) {
    this.listeners.get(type)?.delete(fn)
  }
  close() {
    this.readyState = 2
  }
  // --- test helpers
  open() {
    this.readyState = 1
    this.onopen?.(new Event('open'))
  }
  emit(type: string, data: unknown, id?: number) {
    const ev = new MessageEvent(type, { data: JSON.stringify(data), lastEventId: id ? String(id) : '' })
    for (const fn of this.listeners.get(type) ?? []) fn(ev)
  }
  fail(closed: boolean) {
    this.readyState = closed ? 2 : 0
    this.onerror?.(new Event('error'))
  }
  static last(): MockEventSource {
    return MockEventSource.instances.at(-1)!
  }
}

function notification(id: number, extra: Partial<Notification> = {}): Notification {
  return {
    id,
    kind: 'escalation',
    title: `[升级 Escalation] #${100 + id} 热水器漏水 — 投诉两小时 (L1)`,
    body: '工单 #101「热水器漏水」触发升级规则「投诉两小时」第 1 级。',
    ticket_id: 100 + id,
    data: {},
    created_at: '2026-03-03T02:00:00Z',
    read_at: null,
    ...extra,
  }
}

let fetchMock: ReturnType<typeof vi.fn>
let unread = 2

beforeEach(() => {
  setActivePinia(createPinia())
  setLocale('zh-CN')
  MockEventSource.instances = []
  vi.stubGlobal('EventSource', MockEventSource)
  unread = 2
  fetchMock = vi.fn(async (url: string) => {
    if (url.startsWith('/api/v1/notifications/unread-count')) return json(200, { count: unread })
    if (url.startsWith('/api/v1/notifications?')) return json(200, { items: [notification(5), notification(4, { read_at: '2026-03-03T01:00:00Z' }), notification(3)], total: 3, page: 1, page_size: 10 })
    if (url === '/api/v1/notifications/5/read') return json(200, notification(5, { read_at: '2026-03-03T03:00:00Z' }))
    if (url === '/api/v1/notifications/read-all') return json(200, { updated: 2 })
    return json(404, { title: 'Not Found', status: 404 })
  })
  vi.stubGlobal('fetch', fetchMock)
})
afterEach(() => {
  useNotificationStore().reset()
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('backoffDelay', () => {
  it('doubles from 1 s up to 60 s, with ±20 % jitter', () => {
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, () => 0.5))).toEqual([1000, 2000, 4000, 8000])
    expect(backoffDelay(10, () => 0.5)).toBe(BACKOFF_MAX_MS)
    expect(backoffDelay(0, () => 0)).toBe(800)
    expect(backoffDelay(0, () => 1)).toBe(1200)
  })
})

describe('notification store', () => {
  it('loads the inbox, then listens on the stream from the newest id it has', async () => {
    const store = useNotificationStore()
    store.start()
    await flushPromises()
    expect(store.items.map((n) => n.id)).toEqual([5, 4, 3])
    expect(store.unread).toBe(2)
    const es = MockEventSource.last()
    expect(es.url).toBe('/api/v1/notifications/stream?since_id=5')
    expect(es.withCredentials).toBe(true)
    expect(store.status).toBe('connecting')
    es.open()
    expect(store.status).toBe('open')
    store.start() // idempotent
    expect(MockEventSource.instances).toHaveLength(1)
  })

  it('adds live notifications once, counts the unread ones and tells listeners', async () => {
    const store = useNotificationStore()
    const seen: number[] = []
    store.onNotification((n) => seen.push(n.id))
    store.start()
    await flushPromises()
    const es = MockEventSource.last()
    es.open()
    es.emit('notification', notification(6), 6)
    es.emit('notification', notification(6), 6) // replayed after a reconnect: ignored
    es.emit('notification', notification(7, { read_at: '2026-03-03T02:00:00Z' }), 7)
    es.emit('notification', 'not json')
    expect(store.items.map((n) => n.id)).toEqual([7, 6, 5, 4, 3])
    expect(store.unread).toBe(3)
    expect(seen).toEqual([6, 7])
  })

  it('reconnects with backoff and since_id after the browser gives up, and checks the session first', async () => {
    vi.useFakeTimers()
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const store = useNotificationStore()
    store.start()
    await vi.advanceTimersByTimeAsync(0)
    const first = MockEventSource.last()
    first.open()
    first.emit('notification', notification(9), 9)
    // A transient drop: the browser retries on its own (no new EventSource from us).
    first.fail(false)
    expect(store.status).toBe('retrying')
    expect(MockEventSource.instances).toHaveLength(1)
    // The browser gave up (HTTP error): we reconnect after 1 s, then 2 s, …
    first.fail(true)
    expect(first.readyState).toBe(2)
    const countsBefore = fetchMock.mock.calls.filter(([u]) => String(u).includes('unread-count')).length
    await vi.advanceTimersByTimeAsync(999)
    expect(MockEventSource.instances).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(fetchMock.mock.calls.filter(([u]) => String(u).includes('unread-count')).length).toBeGreaterThan(countsBefore)
    expect(MockEventSource.instances).toHaveLength(2)
    const second = MockEventSource.last()
    expect(second.url).toBe('/api/v1/notifications/stream?since_id=9')
    second.fail(true)
    await vi.advanceTimersByTimeAsync(1999)
    expect(MockEventSource.instances).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(MockEventSource.instances).toHaveLength(3)
    // A successful open resets the backoff.
    MockEventSource.last().open()
    MockEventSource.last().fail(true)
    await vi.advanceTimersByTimeAsync(1000)
    expect(MockEventSource.instances).toHaveLength(4)
  })

  it('stops when the session is gone (401) instead of reconnecting forever', async () => {
    vi.useFakeTimers()
    const store = useNotificationStore()
    store.start()
    await vi.advanceTimersByTimeAsync(0)
    fetchMock.mockImplementation(async () => json(401, { title: 'Unauthorized', status: 401 }))
    MockEventSource.last().fail(true)
    await vi.advanceTimersByTimeAsync(5_000)
    expect(MockEventSource.instances).toHaveLength(1)
    expect(store.status).toBe('idle')
  })

  it('marks one or all as read', async () => {
    const store = useNotificationStore()
    store.start()
    await flushPromises()
    await store.markRead(store.items[0])
    expect(store.unread).toBe(1)
    expect(store.items[0].read_at).not.toBeNull()
    await store.markRead(store.items[0]) // already read: no call
    expect(fetchMock.mock.calls.filter(([u]) => u === '/api/v1/notifications/5/read')).toHaveLength(1)
    await store.markAllRead()
    expect(store.unread).toBe(0)
    expect(store.items.every((n) => n.read_at)).toBe(true)
    const [, init] = fetchMock.mock.calls.find(([u]) => u === '/api/v1/notifications/read-all') as [string, RequestInit]
    expect(init.method).toBe('POST')
  })

  it('polls the count when the browser has no EventSource; reset closes everything', async () => {
    vi.useFakeTimers()
    vi.stubGlobal('EventSource', undefined)
    const store = useNotificationStore()
    store.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(store.status).toBe('polling')
    unread = 7
    await vi.advanceTimersByTimeAsync(30_000)
    expect(store.unread).toBe(7)
    store.reset()
    expect(store.items).toEqual([])
    expect(store.unread).toBe(0)
    expect(store.status).toBe('idle')
  })
})

describe('NotificationBell', () => {
  it('shows the unread count, lists notifications and opens the ticket of one', async () => {
    const router = createRouter({
      history: createMemoryHistory('/app/'),
      routes: [
        { path: '/', component: { template: '<div />' } },
        { path: '/tickets/:id', name: 'ticket', component: { template: '<div />' } },
      ],
    })
    await router.push('/')
    const w = mount(NotificationBell, { attachTo: document.body, global: { plugins: [i18n, router, ElementPlus] } })
    await flushPromises()
    expect(w.get('[data-testid="notification-count"] .el-badge__content').text()).toBe('2')
    // A live one arrives: the count goes up without a reload.
    MockEventSource.last().open()
    MockEventSource.last().emit('notification', notification(8), 8)
    await flushPromises()
    expect(w.get('[data-testid="notification-count"] .el-badge__content').text()).toBe('3')
    await w.get('[data-testid="notification-bell"]').trigger('click')
    await flushPromises()
    const item = document.querySelector('[data-testid="notification-8"]') as HTMLElement
    expect(item.textContent).toContain('热水器漏水')
    expect(item.className).toContain('is-unread')
    fetchMock.mockImplementationOnce(async () => json(200, notification(8, { read_at: '2026-03-03T03:00:00Z' })))
    item.click()
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/tickets/108')
    expect(w.get('[data-testid="notification-count"] .el-badge__content').text()).toBe('2')
    w.unmount()
    document.body.innerHTML = ''
  })
})

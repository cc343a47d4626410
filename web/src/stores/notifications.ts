/**
 * The signed-in user's notifications: the latest few, the unread count, and live updates from
 * the server-sent event stream (`event: notification`, cookie auth).
 *
 * The browser's EventSource reconnects by itself after a dropped connection (with Last-Event-ID).
 * When it gives up (HTTP error, server restart) we reconnect with exponential backoff, asking
 * for what was missed with `since_id`. Without EventSource (old browsers, tests) the count is polled.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { ApiError } from '@/api/client'
import { NOTIFICATION_STREAM_URL, notificationsApi } from '@/api/endpoints'
import type { Notification } from '@/api/types'

export const KEEP_ITEMS = 20
export const BACKOFF_BASE_MS = 1000
export const BACKOFF_MAX_MS = 60_000
export const POLL_MS = 30_000

export type StreamStatus = 'idle' | 'connecting' | 'open' | 'retrying' | 'polling'

/** Delay before reconnect attempt `attempt` (0-based): 1 s, 2 s, 4 s … capped at 60 s, ±20 % jitter. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt))
  return Math.round(base * (0.8 + 0.4 * random()))
}

type Listener = (n: Notification) => void

export const useNotificationStore = defineStore('notifications', () => {
  const items = ref<Notification[]>([])
  const unread = ref(0)
  const status = ref<StreamStatus>('idle')
  const loaded = ref(false)

  let source: EventSource | null = null
  let attempt = 0
  let lastId = 0
  let started = false
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null
  let pollTimer: ReturnType<typeof setInterval> | null = null
  let countTimer: ReturnType<typeof setTimeout> | null = null
  const listeners = new Set<Listener>()

  const hasUnread = computed(() => unread.value > 0)

  function remember(list: Notification[]): void {
    for (const n of list) lastId = Math.max(lastId, n.id)
  }

  async function refreshCount(): Promise<void> {
    try {
      unread.value = (await notificationsApi.unreadCount()).count
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) stop()
    }
  }

  async function load(): Promise<void> {
    try {
      const [page, count] = await Promise.all([notificationsApi.list({ page_size: 10 }), notificationsApi.unreadCount()])
      items.value = page.items
      unread.value = count.count
      remember(page.items)
      loaded.value = true
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) stop()
    }
  }

  /** A notification from the stream (or anywhere): add it once, count it if unread. */
  function receive(n: Notification): void {
    lastId = Math.max(lastId, n.id)
    if (items.value.some((x) => x.id === n.id)) return
    items.value = [n, ...items.value].slice(0, KEEP_ITEMS)
    if (!n.read_at) unread.value += 1
    for (const fn of listeners) fn(n)
    // The server's count settles races with the initial load.
    if (countTimer) clearTimeout(countTimer)
    countTimer = setTimeout(() => {
      countTimer = null
      void refreshCount()
    }, 1500)
  }

  function onMessage(ev: MessageEvent): void {
    try {
      const n = JSON.parse(String(ev.data)) as Notification
      if (typeof n?.id === 'number') receive(n)
    } catch {
      /* not JSON: ignore */
    }
  }

  function closeSource(): void {
    if (source) {
      source.removeEventListener('notification', onMessage as EventListener)
      source.onopen = null
      source.onerror = null
      source.close()
    }
    source = null
  }

  function connect(): void {
    if (!started) return
    closeSource()
    if (typeof EventSource === 'undefined') {
      status.value = 'polling'
      pollTimer ??= setInterval(() => void refreshCount(), POLL_MS)
      return
    }
    status.value = 'connecting'
    const url = lastId > 0 ? `${NOTIFICATION_STREAM_URL}?since_id=${lastId}` : NOTIFICATION_STREAM_URL
    const es = new EventSource(url, { withCredentials: true })
    source = es
    es.addEventListener('notification', onMessage as EventListener)
    es.onopen = () => {
      attempt = 0
      status.value = 'open'
    }
    es.onerror = () => {
      if (source !== es) return
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (HTTP error or no retry): reconnect ourselves, later and later.
        closeSource()
        scheduleReconnect()
      } else {
        status.value = 'retrying' // the browser retries on its own
      }
    }
  }

  function scheduleReconnect(): void {
    if (!started || reconnectTimer) return
    status.value = 'retrying'
    const delay = backoffDelay(attempt)
    attempt += 1
    reconnectTimer = setTimeout(async () => {
      reconnectTimer = null
      if (!started) return
      // Still signed in? (a 401 stops here; the API client sends the user to the login page)
      await refreshCount()
      if (started) connect()
    }, delay)
  }

  /** Load the inbox and open the live stream (once per sign-in). */
  function start(): void {
    if (started) return
    started = true
    attempt = 0
    void load().then(() => {
      if (started && !source) connect()
    })
  }

  function stop(): void {
    started = false
    closeSource()
    if (reconnectTimer) clearTimeout(reconnectTimer)
    if (pollTimer) clearInterval(pollTimer)
    if (countTimer) clearTimeout(countTimer)
    reconnectTimer = null
    pollTimer = null
    countTimer = null
    status.value = 'idle'
  }

  /** Forget everything (logout). */
  function reset(): void {
    stop()
    items.value = []
    unread.value = 0
    lastId = 0
    loaded.value = false
  }

  async function markRead(n: Notification): Promise<void> {
    if (n.read_at) return
    const updated = await notificationsApi.markRead(n.id)
    const i = items.value.findIndex((x) => x.id === n.id)
    if (i >= 0) items.value[i] = updated
    unread.value = Math.max(0, unread.value - 1)
  }

  async function markAllRead(): Promise<void> {
    await notificationsApi.markAllRead()
    const at = new Date().toISOString()
    items.value = items.value.map((n) => (n.read_at ? n : { ...n, read_at: at }))
    unread.value = 0
  }

  /** Call `fn` for each new live notification (e.g. to show a toast); returns the unsubscribe. */
  function onNotification(fn: Listener): () => void {
    listeners.add(fn)
    return () => listeners.delete(fn)
  }

  return {
    items,
    unread,
    status,
    loaded,
    hasUnread,
    start,
    stop,
    reset,
    load,
    receive,
    markRead,
    markAllRead,
    onNotification,
  }
})

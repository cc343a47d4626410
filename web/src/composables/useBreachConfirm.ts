/**
 * After a countdown passes its due time in the browser, ask the server again a little later
 * (its scanner records the breach within about 2 s) until it confirms, with a few retries.
 */
import { getCurrentScope, onScopeDispose } from 'vue'
import { BREACH_CONFIRM_DELAYS_MS } from '@/utils/sla'

/** `check(key)` refetches and resolves true once the server state is final (breached or fulfilled). */
export function useBreachConfirm<K extends string | number>(
  check: (key: K) => Promise<boolean>,
  delays: number[] = BREACH_CONFIRM_DELAYS_MS,
) {
  const timers = new Map<K, ReturnType<typeof setTimeout>>()
  let disposed = false

  function schedule(key: K, attempt = 0): void {
    if (disposed || attempt >= delays.length || timers.has(key)) return
    timers.set(
      key,
      setTimeout(async () => {
        timers.delete(key)
        let done = false
        try {
          done = await check(key)
        } catch {
          done = false
        }
        if (!done) schedule(key, attempt + 1)
      }, delays[attempt]),
    )
  }

  function cancelAll(): void {
    for (const t of timers.values()) clearTimeout(t)
    timers.clear()
  }

  if (getCurrentScope()) {
    onScopeDispose(() => {
      disposed = true
      cancelAll()
    })
  }

  return { schedule, cancelAll, pending: (key: K) => timers.has(key) }
}

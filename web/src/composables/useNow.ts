/**
 * One shared 1-second clock for every live countdown on the page (a single timer however many
 * badges are mounted). The timer runs while at least one component uses it.
 */
import { getCurrentScope, onScopeDispose, ref, type Ref } from 'vue'

const now = ref(Date.now())
let users = 0
let timer: ReturnType<typeof setInterval> | null = null

export const TICK_MS = 1000

function start(): void {
  now.value = Date.now()
  timer ??= setInterval(() => {
    now.value = Date.now()
  }, TICK_MS)
}

function stop(): void {
  if (timer !== null) clearInterval(timer)
  timer = null
}

export function useNow(): Readonly<Ref<number>> {
  users += 1
  start()
  if (getCurrentScope()) {
    onScopeDispose(() => {
      users -= 1
      if (users <= 0) {
        users = 0
        stop()
      }
    })
  }
  return now
}

/** Display names of users seen so far (for events that only carry user ids, e.g. "assigned"). */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { orgApi } from '@/api/endpoints'

export const useUserDirectory = defineStore('userDirectory', () => {
  const names = ref<Record<number, string>>({})
  let loading: Promise<void> | null = null

  function remember(users: { id: number; display_name: string }[]): void {
    for (const u of users) if (u.display_name) names.value[u.id] = u.display_name
  }

  /** Load the first page of users once (all roles may read the organisation). */
  function ensureLoaded(): Promise<void> {
    loading ??= orgApi
      .users({ page_size: 200 })
      .then((p) => remember(p.items))
      .catch(() => {
        loading = null
      })
    return loading
  }

  function nameOf(id: unknown): string | null {
    return typeof id === 'number' ? (names.value[id] ?? `#${id}`) : null
  }

  function reset(): void {
    names.value = {}
    loading = null
  }

  return { names, remember, ensureLoaded, nameOf, reset }
})

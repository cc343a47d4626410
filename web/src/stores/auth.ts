import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { authApi } from '@/api/endpoints'
import { ApiError } from '@/api/client'
import type { User } from '@/api/types'

export const useAuthStore = defineStore('auth', () => {
  const user = ref<User | null>(null)
  /** Whether /auth/me has been asked once in this page load. */
  const checked = ref(false)

  const isLoggedIn = computed(() => user.value !== null)

  async function login(username: string, password: string): Promise<User> {
    const res = await authApi.login(username, password)
    user.value = res.user
    checked.value = true
    return res.user
  }

  /** Load the current user; returns null when not logged in (401). */
  async function fetchMe(): Promise<User | null> {
    try {
      user.value = await authApi.me()
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) user.value = null
      else throw e
    } finally {
      checked.value = true
    }
    return user.value
  }

  async function logout(): Promise<void> {
    try {
      await authApi.logout()
    } catch {
      /* the session may already be gone */
    }
    clear()
  }

  function clear(): void {
    user.value = null
  }

  return { user, checked, isLoggedIn, login, fetchMe, logout, clear }
})

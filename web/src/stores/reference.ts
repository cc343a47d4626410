/** Reference lists (teams, regions) loaded once per session for filters and pickers. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { orgApi } from '@/api/endpoints'
import type { NamedRef } from '@/api/types'

export const useReferenceStore = defineStore('reference', () => {
  const teams = ref<NamedRef[]>([])
  const regions = ref<NamedRef[]>([])
  let teamsPromise: Promise<void> | null = null
  let regionsPromise: Promise<void> | null = null

  function loadTeams(): Promise<void> {
    teamsPromise ??= orgApi
      .teams()
      .then((p) => {
        teams.value = p.items
      })
      .catch(() => {
        teamsPromise = null
      })
    return teamsPromise
  }

  function loadRegions(): Promise<void> {
    regionsPromise ??= orgApi
      .regions()
      .then((p) => {
        regions.value = p.items
      })
      .catch(() => {
        regionsPromise = null
      })
    return regionsPromise
  }

  function reset(): void {
    teams.value = []
    regions.value = []
    teamsPromise = null
    regionsPromise = null
  }

  return { teams, regions, loadTeams, loadRegions, reset }
})

/** Reference lists (teams, regions) loaded once per session for filters and pickers. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { currentLocale } from '@/i18n'
import { refName } from '@/utils/names'
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

  /** Name of a team/region reference in the current language (English names come from the loaded lists). */
  function teamName(r: { id: number; name: string } | null | undefined): string {
    if (!r) return '—'
    return refName(teams.value.find((x) => x.id === r.id) ?? r, currentLocale())
  }
  function regionName(r: { id: number; name: string } | null | undefined): string {
    if (!r) return '—'
    return refName(regions.value.find((x) => x.id === r.id) ?? r, currentLocale())
  }

  function reset(): void {
    teams.value = []
    regions.value = []
    teamsPromise = null
    regionsPromise = null
  }

  return { teams, regions, loadTeams, loadRegions, teamName, regionName, reset }
})

/** Labels for API enum values in the current language, with a fallback for values the UI does not know yet. */
import { useI18n } from 'vue-i18n'

export function useLabels() {
  const { t, te } = useI18n()
  const label = (prefix: string, value: string | null | undefined): string => {
    if (value === null || value === undefined || value === '') return '—'
    const key = `${prefix}.${value}`
    return te(key) ? t(key) : value
  }
  return {
    status: (v: string | null | undefined) => label('ticket.statuses', v),
    priority: (v: string | null | undefined) => label('ticket.priorities', v),
    type: (v: string | null | undefined) => label('ticket.types', v),
    channel: (v: string | null | undefined) => label('ticket.channels', v),
    flag: (v: string | null | undefined) => label('ticket.flags', v),
    role: (v: string | null | undefined) => label('user.roles', v),
    tier: (v: string | null | undefined) => label('customer.tiers', v),
    resolutionCode: (v: string | null | undefined) => label('ticket.resolutionCodes', v),
    authorKind: (v: string | null | undefined) => label('ticket.authorKinds', v),
    event: (v: string | null | undefined) => {
      if (!v) return '—'
      const key = `ticket.events.${v}`
      return te(key) ? t(key) : t('ticket.events.unknown', { kind: v })
    },
  }
}

import type { AppLocale } from './format'

/** Display name of a reference row in the current language (`name_en` when present in English). */
export function refName(
  ref: { name: string; name_en?: string | null } | null | undefined,
  locale: AppLocale | string,
): string {
  if (!ref) return '—'
  return locale === 'en' && ref.name_en ? ref.name_en : ref.name
}

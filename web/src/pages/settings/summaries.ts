/** One-line summaries of policy conditions and targets for the settings lists. */
import type { RuleConditions, TargetIn } from '@/api/types'
import { formatTargetMinutes } from '@/utils/sla'
import { currentLocale } from '@/i18n'
import type { NamedRef } from '@/api/types'

type T = (key: string, named?: Record<string, unknown>) => string
interface Labels {
  type: (v: string) => string
  priority: (v: string) => string
  tier: (v: string) => string
  channel: (v: string) => string
  flag: (v: string) => string
}
interface Reference {
  teamName: (r: NamedRef) => string
  regionName: (r: NamedRef) => string
}

/** "、" in Chinese, ", " in English. */
export function listSep(): string {
  return currentLocale() === 'en' ? ', ' : '、'
}

/** Label/value and clause separators: full-width in Chinese. */
function punct(): { colon: string; semi: string } {
  return currentLocale() === 'en' ? { colon: ': ', semi: '; ' } : { colon: '：', semi: '；' }
}

export function conditionsSummary(c: RuleConditions | null | undefined, t: T, labels: Labels, ref: Reference): string {
  if (!c) return ''
  const sep = listSep()
  const { colon, semi } = punct()
  const parts: string[] = []
  const add = (key: string, values: string[]) => {
    if (values.length) parts.push(`${t(`settings.policy.fields.${key}`)}${colon}${values.join(sep)}`)
  }
  add('type', (c.type ?? []).map(labels.type))
  add('priority', (c.priority ?? []).map(labels.priority))
  add('tier', (c.tier ?? []).map(labels.tier))
  add('channel', (c.channel ?? []).map(labels.channel))
  add('region', (c.region_id ?? []).map((id) => ref.regionName({ id, name: `#${id}` })))
  add('team', (c.team_id ?? []).map((id) => ref.teamName({ id, name: `#${id}` })))
  add('flag', (c.flag_color ?? []).map(labels.flag))
  add('product', (c.product_id ?? []).map((id) => `#${id}`))
  add('customer', (c.customer_id ?? []).map((id) => `#${id}`))
  return parts.join(semi)
}

export function targetsSummary(targets: TargetIn[] | null | undefined, t: T, labels: Labels): string {
  const sep = listSep()
  return (targets ?? [])
    .map((x) => {
      const pr = x.priorities?.length ? ` (${x.priorities.map(labels.priority).join(sep)})` : ''
      return `${t(`sla.metrics.${x.metric}`)} ${formatTargetMinutes(x.minutes, currentLocale())}${pr}`
    })
    .join(' · ')
}

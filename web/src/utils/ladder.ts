/**
 * Escalation ladder editing: blank values for new levels/actions, the request body, and the
 * same checks the server makes (servicelens/sla/service.py `_check_rule`), keyed by the same
 * field paths ("levels.0.actions.1.color") so client and server errors show in the same place.
 */
import type { ActionIn, LevelIn, RuleConditions, RuleIn } from '@/api/types'

export type ActionType = ActionIn['type']
export const ACTION_TYPES: ActionType[] = ['flag', 'priority', 'reassign', 'notify', 'webhook']
export const MAX_LEVELS = 10
export const MAX_ACTIONS = 20

/** Which ticket field an action writes, and so which rule condition would make it loop. */
export const ACTION_WRITES: Partial<Record<ActionType, keyof RuleConditions>> = {
  flag: 'flag_color',
  priority: 'priority',
  reassign: 'team_id',
}

/** i18n keys (under settings.rule.errors) by field path. */
export type LadderErrors = Record<string, string>

export function blankAction(type: ActionType = 'notify'): ActionIn {
  switch (type) {
    case 'flag':
      return { type, color: 'red' }
    case 'priority':
      return { type, raise_levels: 1 }
    case 'reassign':
      return { type, to: 'team_supervisor' }
    case 'notify':
      return { type, roles: ['team_supervisor'], user_ids: [] }
    case 'webhook':
      return { type, channel_ids: [] }
  }
}

export function blankLevel(afterMinutes = 0): LevelIn {
  return { after_minutes: afterMinutes, actions: [blankAction('notify')] }
}

/** Keep only the fields that matter for the action's type (the API rejects unknown fields). */
export function cleanAction(a: ActionIn): ActionIn {
  switch (a.type) {
    case 'flag':
      return { type: 'flag', color: a.color ?? null }
    case 'priority':
      return a.set ? { type: 'priority', set: a.set } : { type: 'priority', raise_levels: a.raise_levels ?? null }
    case 'reassign':
      return { type: 'reassign', to: a.to ?? null }
    case 'notify':
      return { type: 'notify', roles: [...(a.roles ?? [])], user_ids: [...(a.user_ids ?? [])] }
    case 'webhook':
      return { type: 'webhook', channel_ids: [...(a.channel_ids ?? [])] }
  }
}

/** Drop empty condition lists. */
export function cleanConditions<T extends object>(c: T): T {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(c)) if (Array.isArray(v) ? v.length : v !== null && v !== undefined) out[k] = v
  return out as T
}

export function ruleBody(rule: RuleIn): RuleIn {
  const sla = rule.trigger === 'sla_warning' || rule.trigger === 'sla_breach'
  return {
    name: rule.name.trim(),
    position: rule.position,
    is_active: rule.is_active,
    conditions: cleanConditions(rule.conditions ?? {}),
    trigger: rule.trigger,
    metric: sla ? (rule.metric ?? null) : null,
    levels: rule.levels.map((l) => ({ after_minutes: l.after_minutes, actions: l.actions.map(cleanAction) })),
  }
}

/** Client-side checks of a rule; an empty object means it can be sent. */
export function validateRule(rule: RuleIn): LadderErrors {
  const errors: LadderErrors = {}
  if (!rule.name.trim()) errors.name = 'settings.policy.errors.nameRequired'
  const levels = rule.levels ?? []
  if (!levels.length) errors.levels = 'settings.rule.errors.levelsRequired'
  if (levels.length > MAX_LEVELS) errors.levels = 'settings.rule.errors.tooManyLevels'
  const conds = (rule.conditions ?? {}) as Record<string, unknown[] | undefined>
  levels.forEach((level, i) => {
    const m = level.after_minutes
    if (typeof m !== 'number' || !Number.isFinite(m) || m < 0 || m > 525_600) {
      errors[`levels.${i}.after_minutes`] = 'settings.rule.errors.afterMinutes'
    } else if (i > 0 && typeof levels[i - 1].after_minutes === 'number' && m < levels[i - 1].after_minutes) {
      errors[`levels.${i}.after_minutes`] = 'settings.rule.errors.order'
    }
    if (!level.actions.length) errors[`levels.${i}.actions`] = 'settings.rule.errors.actionsRequired'
    if (level.actions.length > MAX_ACTIONS) errors[`levels.${i}.actions`] = 'settings.rule.errors.tooManyActions'
    level.actions.forEach((a, j) => {
      const path = `levels.${i}.actions.${j}`
      const writes = ACTION_WRITES[a.type]
      if (writes && (conds[writes]?.length ?? 0) > 0) {
        errors[path] = 'settings.rule.errors.loop'
        return
      }
      if (a.type === 'flag' && !a.color) errors[`${path}.color`] = 'settings.rule.errors.color'
      if (a.type === 'priority' && !a.set && !a.raise_levels) errors[path] = 'settings.rule.errors.priority'
      if (a.type === 'reassign' && (a.to === null || a.to === undefined || a.to === '' as unknown)) {
        errors[`${path}.to`] = 'settings.rule.errors.to'
      }
      if (a.type === 'notify' && !(a.roles?.length || a.user_ids?.length)) errors[path] = 'settings.rule.errors.recipients'
      if (a.type === 'webhook' && !a.channel_ids?.length) errors[`${path}.channel_ids`] = 'settings.rule.errors.channels'
    })
  })
  return errors
}

/** The server said the rule loops (code escalation.loop, or a reason mentioning the loop). */
export function isLoopError(code: string | null | undefined, reason = ''): boolean {
  return code === 'escalation.loop' || /\bloop\b/i.test(reason)
}

const SERVER_REASONS: [RegExp, string][] = [
  [/\bloop\b/i, 'settings.rule.errors.loop'],
  [/flag needs a colou?r/i, 'settings.rule.errors.color'],
  [/priority needs/i, 'settings.rule.errors.priority'],
  [/reassign needs/i, 'settings.rule.errors.to'],
  [/notify needs/i, 'settings.rule.errors.recipients'],
  [/webhook needs/i, 'settings.rule.errors.channels'],
  [/increasing after_minutes/i, 'settings.rule.errors.order'],
]

/** An i18n key for a known server reason of `_check_rule`, else null (show the server's text). */
export function serverReasonKey(reason: string): string | null {
  for (const [re, key] of SERVER_REASONS) if (re.test(reason)) return key
  return null
}

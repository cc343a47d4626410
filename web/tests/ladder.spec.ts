import { describe, expect, it } from 'vitest'
import type { RuleIn } from '@/api/types'
import { blankAction, blankLevel, cleanAction, isLoopError, ruleBody, serverReasonKey, validateRule } from '@/utils/ladder'
import { dayErrors, hoursValid, officeHours, sortedHours, timeOptions, versionOn, workingDays } from '@/utils/calendar'

function rule(extra: Partial<RuleIn> = {}): RuleIn {
  return {
    name: '投诉 2 小时 / 4 小时',
    position: 10,
    is_active: true,
    conditions: { type: ['complaint'] },
    trigger: 'no_first_response',
    metric: null,
    levels: [
      { after_minutes: 120, actions: [{ type: 'notify', roles: ['team_supervisor'], user_ids: [] }] },
      { after_minutes: 240, actions: [{ type: 'flag', color: 'red' }, { type: 'reassign', to: 'regional_manager' }] },
    ],
    ...extra,
  }
}

describe('validateRule (the checks of servicelens/sla/service.py _check_rule)', () => {
  it('accepts the 2 h / 4 h complaint ladder of walkthrough 8', () => {
    expect(validateRule(rule())).toEqual({})
  })

  it('needs a name and at least one level, at most ten', () => {
    expect(validateRule(rule({ name: '  ', levels: [] }))).toEqual({
      name: 'settings.policy.errors.nameRequired',
      levels: 'settings.rule.errors.levelsRequired',
    })
    const many = Array.from({ length: 11 }, (_, i) => blankLevel(i * 10))
    expect(validateRule(rule({ levels: many })).levels).toBe('settings.rule.errors.tooManyLevels')
  })

  it('levels need actions and increasing minutes (equal is allowed)', () => {
    const errors = validateRule(
      rule({
        levels: [
          { after_minutes: 60, actions: [blankAction('notify')] },
          { after_minutes: 60, actions: [blankAction('notify')] },
          { after_minutes: 30, actions: [] },
          { after_minutes: -5, actions: [blankAction('notify')] },
        ],
      }),
    )
    expect(errors).toEqual({
      'levels.2.after_minutes': 'settings.rule.errors.order',
      'levels.2.actions': 'settings.rule.errors.actionsRequired',
      'levels.3.after_minutes': 'settings.rule.errors.afterMinutes',
    })
  })

  it('checks each action type for what it needs, with the server field paths', () => {
    const errors = validateRule(
      rule({
        conditions: {},
        levels: [
          {
            after_minutes: 0,
            actions: [
              { type: 'flag', color: null },
              { type: 'priority', set: null, raise_levels: null },
              { type: 'reassign', to: null },
              { type: 'notify', roles: [], user_ids: [] },
              { type: 'webhook', channel_ids: [] },
              { type: 'reassign', to: 42 },
              { type: 'notify', roles: [], user_ids: [5] },
            ],
          },
        ],
      }),
    )
    expect(errors).toEqual({
      'levels.0.actions.0.color': 'settings.rule.errors.color',
      'levels.0.actions.1': 'settings.rule.errors.priority',
      'levels.0.actions.2.to': 'settings.rule.errors.to',
      'levels.0.actions.3': 'settings.rule.errors.recipients',
      'levels.0.actions.4.channel_ids': 'settings.rule.errors.channels',
    })
  })

  it('rejects an action that changes a field the conditions test (loop)', () => {
    const errors = validateRule(
      rule({
        conditions: { flag_color: ['amber'], priority: ['high'], team_id: [1] },
        levels: [
          {
            after_minutes: 0,
            actions: [
              { type: 'flag', color: 'red' },
              { type: 'priority', raise_levels: 1 },
              { type: 'reassign', to: 'team_supervisor' },
              { type: 'notify', roles: ['admin'] },
            ],
          },
        ],
      }),
    )
    expect(errors).toEqual({
      'levels.0.actions.0': 'settings.rule.errors.loop',
      'levels.0.actions.1': 'settings.rule.errors.loop',
      'levels.0.actions.2': 'settings.rule.errors.loop',
    })
  })
})

describe('ruleBody', () => {
  it('drops empty conditions, fields of other action types, and the metric of non-SLA triggers', () => {
    const body = ruleBody(
      rule({
        name: ' 规则 ',
        conditions: { type: ['complaint'], priority: [], tier: [] },
        metric: 'first_reply',
        levels: [{ after_minutes: 30, actions: [{ type: 'flag', color: 'red', roles: ['admin'], user_ids: [1] }] }],
      }),
    )
    expect(body).toEqual({
      name: '规则',
      position: 10,
      is_active: true,
      conditions: { type: ['complaint'] },
      trigger: 'no_first_response',
      metric: null,
      levels: [{ after_minutes: 30, actions: [{ type: 'flag', color: 'red' }] }],
    })
    expect(ruleBody(rule({ trigger: 'sla_breach', metric: 'resolution' })).metric).toBe('resolution')
  })

  it('priority actions send either set or raise_levels', () => {
    expect(cleanAction({ type: 'priority', set: 'urgent', raise_levels: 2 })).toEqual({ type: 'priority', set: 'urgent' })
    expect(cleanAction({ type: 'priority', set: null, raise_levels: 2 })).toEqual({ type: 'priority', raise_levels: 2 })
  })
})

describe('server errors', () => {
  it('maps the server reasons to localized messages', () => {
    expect(isLoopError('escalation.loop')).toBe(true)
    expect(isLoopError('validation_error', "the 'flag' action changes flag_color ... (loop)")).toBe(true)
    expect(isLoopError('validation_error', 'flag needs a color')).toBe(false)
    expect(serverReasonKey("the 'flag' action changes flag_color, which this rule's conditions test: the rule would re-trigger itself (loop)")).toBe(
      'settings.rule.errors.loop',
    )
    expect(serverReasonKey('flag needs a color')).toBe('settings.rule.errors.color')
    expect(serverReasonKey('levels must be in increasing after_minutes order')).toBe('settings.rule.errors.order')
    expect(serverReasonKey('user 99 does not exist')).toBeNull()
  })
})

describe('weekly hours', () => {
  it('office hours have a lunch break, five days a week', () => {
    const h = officeHours()
    expect(h['0']).toEqual([
      ['09:00', '12:00'],
      ['13:00', '18:00'],
    ])
    expect(h['6']).toEqual([])
    expect(workingDays(h)).toBe(5)
    expect(hoursValid(h)).toBe(true)
  })
  it('flags bad times, reversed and overlapping intervals', () => {
    expect(dayErrors([['09:00', '12:00'], ['13:00', '24:00']])).toEqual([null, null])
    expect(dayErrors([['9:00', '12:00']])).toEqual(['badTime'])
    expect(dayErrors([['24:00', '24:00']])).toEqual(['badTime'])
    expect(dayErrors([['12:00', '09:00']])).toEqual(['order'])
    expect(dayErrors([['09:00', '12:00'], ['11:00', '13:00']])).toEqual(['overlap', 'overlap'])
    expect(dayErrors([['09:00', '12:00'], ['12:00', '13:00']])).toEqual([null, null])
  })
  it('sorts intervals, offers 15-minute times up to 24:00, picks the version of a date', () => {
    expect(sortedHours({ '0': [['13:00', '18:00'], ['09:00', '12:00']] })['0'][0]).toEqual(['09:00', '12:00'])
    const opts = timeOptions(15)
    expect(opts[0]).toBe('00:00')
    expect(opts.at(-1)).toBe('24:00')
    expect(opts).toHaveLength(97)
    const versions = [{ effective_from: '2000-01-01' }, { effective_from: '2025-07-01' }]
    expect(versionOn(versions, '2025-06-30')).toBe(versions[0])
    expect(versionOn(versions, '2025-07-01')).toBe(versions[1])
    expect(versionOn(versions, '1999-01-01')).toBeNull()
  })
})

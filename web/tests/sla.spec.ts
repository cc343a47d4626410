import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { i18n, setLocale } from '@/i18n'
import SlaBadge from '@/components/SlaBadge.vue'
import { useBreachConfirm } from '@/composables/useBreachConfirm'
import { awaitingBreach, formatCountdown, formatTargetMinutes, isBreachKind, parseInstant, slaBadgeView } from '@/utils/sla'

const NOW = Date.parse('2026-03-03T02:00:00Z')
const iso = (offsetMs: number) => new Date(NOW + offsetMs).toISOString()
const MIN = 60_000

describe('formatCountdown (metrics.md §I durations)', () => {
  it('shows seconds under a minute, rounded up so it never reads 0 before the due time', () => {
    expect(formatCountdown(9_000)).toBe('9秒')
    expect(formatCountdown(8_200)).toBe('9秒')
    expect(formatCountdown(500)).toBe('1秒')
    expect(formatCountdown(0)).toBe('0秒')
    expect(formatCountdown(59_999, 'en')).toBe('60 s')
  })
  it('whole minutes below an hour, half up', () => {
    expect(formatCountdown(25 * MIN)).toBe('25分钟')
    expect(formatCountdown(25.5 * MIN)).toBe('26分钟')
    expect(formatCountdown(25 * MIN, 'en')).toBe('25 min')
    expect(formatCountdown(60_000)).toBe('1分钟')
  })
  it('hours with 1 decimal up to 72 h, then days with 1 decimal', () => {
    expect(formatCountdown(342 * MIN)).toBe('5.7小时')
    expect(formatCountdown(72 * 60 * MIN)).toBe('72.0小时')
    expect(formatCountdown(3.5 * 1440 * MIN)).toBe('3.5天')
    expect(formatCountdown(90 * MIN, 'en')).toBe('1.5 h')
    expect(formatCountdown(4 * 1440 * MIN, 'en')).toBe('4.0 d')
  })
  it('uses the absolute value (overdue amounts)', () => {
    expect(formatCountdown(-3 * MIN)).toBe('3分钟')
    expect(formatCountdown(-4_000, 'en')).toBe('4 s')
  })
})

describe('formatTargetMinutes', () => {
  it('reads target lengths', () => {
    expect(formatTargetMinutes(30)).toBe('30分钟')
    expect(formatTargetMinutes(960)).toBe('16.0小时')
    expect(formatTargetMinutes(2880, 'en')).toBe('48.0 h')
    expect(formatTargetMinutes(0.15)).toBe('9秒')
    expect(formatTargetMinutes(null)).toBe('—')
  })
})

describe('slaBadgeView', () => {
  it('runs blue with the time left', () => {
    const v = slaBadgeView({ state: 'active', due_at: iso(25 * MIN), warned: false }, NOW)
    expect(v).toEqual({ kind: 'running', tone: 'primary', remainingMs: 25 * MIN, ticking: true })
  })
  it('is amber once warned, or once the warn time passed', () => {
    expect(slaBadgeView({ state: 'active', due_at: iso(5 * MIN), warned: true }, NOW).tone).toBe('warning')
    const byWarnAt = slaBadgeView({ state: 'active', due_at: iso(5 * MIN), warned: false, warn_at: iso(-1) }, NOW)
    expect(byWarnAt.kind).toBe('warning')
  })
  it('turns red as soon as the due time passes in the browser, before the server confirms', () => {
    const v = slaBadgeView({ state: 'active', due_at: iso(-1_000), warned: true }, NOW)
    expect(v.kind).toBe('overdue')
    expect(v.tone).toBe('danger')
    expect(isBreachKind(v.kind)).toBe(true)
    // Due exactly now counts as passed for the badge.
    expect(slaBadgeView({ state: 'active', due_at: iso(0) }, NOW).kind).toBe('overdue')
  })
  it('is red when the server says breached', () => {
    const v = slaBadgeView({ state: 'breached', due_at: iso(-10 * MIN), warned: true }, NOW)
    expect(v).toMatchObject({ kind: 'breached', tone: 'danger', ticking: false })
  })
  it('is grey when paused or cancelled, green when met', () => {
    expect(slaBadgeView({ state: 'paused', due_at: null }, NOW)).toMatchObject({ kind: 'paused', tone: 'info', remainingMs: null })
    expect(slaBadgeView({ state: 'cancelled', due_at: null }, NOW).tone).toBe('info')
    expect(slaBadgeView({ state: 'achieved', due_at: iso(-MIN) }, NOW)).toMatchObject({ kind: 'achieved', tone: 'success' })
  })
  it('a red flag (escalated) makes any badge red; an amber flag makes a running one amber', () => {
    expect(slaBadgeView({ state: 'active', due_at: iso(MIN * 90) }, NOW, 'red')).toMatchObject({ kind: 'running', tone: 'danger' })
    expect(slaBadgeView({ state: 'paused', due_at: null }, NOW, 'red').tone).toBe('danger')
    expect(slaBadgeView(null, NOW, 'red')).toMatchObject({ kind: 'none', tone: 'danger' })
    expect(slaBadgeView({ state: 'active', due_at: iso(MIN * 90) }, NOW, 'amber').tone).toBe('warning')
    expect(slaBadgeView({ state: 'achieved', due_at: null }, NOW, 'amber').tone).toBe('success')
  })
  it('no SLA and unknown states show nothing', () => {
    expect(slaBadgeView(null, NOW).kind).toBe('none')
    expect(slaBadgeView({ state: 'weird', due_at: null }, NOW).kind).toBe('none')
  })
})

describe('awaitingBreach / parseInstant', () => {
  it('is true only for an active target past due', () => {
    expect(awaitingBreach({ state: 'active', due_at: iso(-1) }, NOW)).toBe(true)
    expect(awaitingBreach({ state: 'active', due_at: iso(1_000) }, NOW)).toBe(false)
    expect(awaitingBreach({ state: 'breached', due_at: iso(-1) }, NOW)).toBe(false)
    expect(awaitingBreach(null, NOW)).toBe(false)
  })
  it('reads timestamps without an offset as UTC', () => {
    expect(parseInstant('2026-03-03T02:00:00')).toBe(NOW)
    expect(parseInstant('2026-03-03T10:00:00+08:00')).toBe(NOW)
    expect(parseInstant(null)).toBeNull()
    expect(parseInstant('nope')).toBeNull()
  })
})

describe('SlaBadge', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(NOW)
    setLocale('zh-CN')
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  function mountBadge(props: Record<string, unknown>) {
    return mount(SlaBadge, { props: props as never, global: { plugins: [i18n, ElementPlus] } })
  }

  it('counts down every second and turns red with 已违约 at the due time, once emitting expired', async () => {
    const w = mountBadge({ sla: { metric: 'first_reply', state: 'active', due_at: iso(3_000), warned: false, breached_at: null } })
    const badge = () => w.get('[data-testid="sla-badge"]')
    expect(badge().text()).toBe('剩余 3秒')
    expect(badge().attributes('data-tone')).toBe('primary')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(badge().text()).toBe('剩余 2秒')
    await vi.advanceTimersByTimeAsync(2_000)
    expect(badge().attributes('data-state')).toBe('overdue')
    expect(badge().classes()).toContain('sla-badge--danger')
    expect(badge().classes()).toContain('el-tag--danger')
    expect(badge().text()).toBe('已违约')
    await vi.advanceTimersByTimeAsync(5_000)
    expect(w.emitted('expired')).toHaveLength(1)
    w.unmount()
  })

  it('shows how long a breach is overdue when asked, in English too', async () => {
    setLocale('en')
    const w = mountBadge({ sla: { state: 'breached', due_at: iso(-12 * MIN), warned: true }, showOverdue: true })
    expect(w.get('[data-testid="sla-badge"]').text()).toBe('Breached · 12 min over')
    w.unmount()
    setLocale('zh-CN')
  })

  it('labels paused, met and amber states; no SLA is a dash', async () => {
    const paused = mountBadge({ sla: { state: 'paused', due_at: null, warned: false } })
    expect(paused.text()).toBe('已暂停')
    expect(paused.get('[data-testid="sla-badge"]').classes()).toContain('el-tag--info')
    const met = mountBadge({ sla: { state: 'achieved', due_at: null, warned: false } })
    expect(met.text()).toBe('已达成')
    const warned = mountBadge({ sla: { metric: 'resolution', state: 'active', due_at: iso(42 * MIN), warned: true }, showMetric: true })
    expect(warned.text()).toBe('解决剩余 42分钟')
    expect(warned.get('[data-testid="sla-badge"]').attributes('data-tone')).toBe('warning')
    const none = mountBadge({ sla: null })
    expect(none.get('[data-testid="sla-badge"]').attributes('data-state')).toBe('none')
    for (const w of [paused, met, warned, none]) w.unmount()
  })

  it('a page opened after the due time asks for confirmation at once', async () => {
    const w = mountBadge({ sla: { state: 'active', due_at: iso(-2_000), warned: true } })
    await flushPromises()
    expect(w.emitted('expired')).toHaveLength(1)
    w.unmount()
  })
})

describe('useBreachConfirm', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('asks again after the delays until the server confirms, once per key at a time', async () => {
    const answers = [false, false, true]
    const check = vi.fn(async () => answers.shift() ?? true)
    const scope = effectScope()
    const confirm = scope.run(() => useBreachConfirm<number>(check, [2500, 2000, 3000, 5000]))!
    confirm.schedule(7)
    confirm.schedule(7) // already pending: ignored
    await vi.advanceTimersByTimeAsync(2499)
    expect(check).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(check).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(2000)
    expect(check).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(3000)
    expect(check).toHaveBeenCalledTimes(3)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(check).toHaveBeenCalledTimes(3)
    expect(check).toHaveBeenCalledWith(7)
    scope.stop()
  })

  it('gives up after the last delay and stops when the scope ends', async () => {
    const check = vi.fn(async () => false)
    const scope = effectScope()
    const confirm = scope.run(() => useBreachConfirm<number>(check, [100, 100]))!
    confirm.schedule(1)
    await vi.advanceTimersByTimeAsync(1000)
    expect(check).toHaveBeenCalledTimes(2)
    confirm.schedule(2)
    scope.stop()
    await vi.advanceTimersByTimeAsync(1000)
    expect(check).toHaveBeenCalledTimes(2)
  })
})

// @vitest-environment node
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import zhCN from '@/i18n/locales/zh-CN'
import en from '@/i18n/locales/en'

type Tree = { [key: string]: string | Tree }

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>()
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (typeof v === 'string') out.set(key, v)
    else for (const [kk, vv] of flatten(v, key)) out.set(kk, vv)
  }
  return out
}

const zhKeys = flatten(zhCN as unknown as Tree)
const enKeys = flatten(en as unknown as Tree)

function placeholders(s: string): string[] {
  return [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
}

describe('i18n completeness', () => {
  it('every zh-CN key exists in en', () => {
    const missing = [...zhKeys.keys()].filter((k) => !enKeys.has(k))
    expect(missing).toEqual([])
  })
  it('every en key exists in zh-CN', () => {
    const missing = [...enKeys.keys()].filter((k) => !zhKeys.has(k))
    expect(missing).toEqual([])
  })
  it('no message is empty', () => {
    const empty = [...zhKeys, ...enKeys].filter(([, v]) => !v.trim()).map(([k]) => k)
    expect(empty).toEqual([])
  })
  it('both languages use the same placeholders', () => {
    const diff = [...zhKeys.keys()].filter(
      (k) => placeholders(zhKeys.get(k)!).join() !== placeholders(enKeys.get(k) ?? '').join(),
    )
    expect(diff).toEqual([])
  })
  it('every message compiles and renders in both languages', () => {
    const errors: string[] = []
    const i18n = createI18n({
      legacy: false,
      locale: 'zh-CN',
      messages: { 'zh-CN': zhCN, en },
      missingWarn: false,
      fallbackWarn: false,
      warnHtmlMessage: false,
    })
    for (const locale of ['zh-CN', 'en'] as const) {
      i18n.global.locale.value = locale
      for (const key of zhKeys.keys()) {
        try {
          const out = i18n.global.t(key, { n: 1, module: 'm', status: 's', value: 'v', kind: 'k', from: 'a', to: 'b', name: 'x', code: 'c', note: 'z', field: 'f', color: 'red', subject: 'x', time: 't', metric: 'm', due: 'd', share: 's', years: 'y', error: 'e' })
          if (out === key) errors.push(`${locale}:${key}`)
        } catch (e) {
          errors.push(`${locale}:${key}: ${String(e)}`)
        }
      }
    }
    expect(errors).toEqual([])
  })

  it('every literal key used in the source exists', () => {
    const files: string[] = []
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name)
        if (statSync(p).isDirectory()) walk(p)
        else if (/\.(vue|ts)$/.test(name) && !name.endsWith('.d.ts')) files.push(p)
      }
    }
    walk(join(__dirname, '..', 'src'))
    const used = new Set<string>()
    const re = /\bt\(\s*'([a-zA-Z][\w-]*(?:\.[\w-]+)+)'/g
    const metaRe = /(?:title|module): '((?:menu|auth|notFound|placeholder)\.[\w.]+)'/g
    for (const f of files) {
      const src = readFileSync(f, 'utf8')
      for (const m of src.matchAll(re)) used.add(m[1])
      for (const m of src.matchAll(metaRe)) used.add(m[1])
    }
    expect(used.size).toBeGreaterThan(50)
    const missing = [...used].filter((k) => !zhKeys.has(k))
    expect(missing).toEqual([])
  })
})

import { createI18n } from 'vue-i18n'
import zhCN from './locales/zh-CN'
import en from './locales/en'
import type { MessageSchema } from './locales/zh-CN'
import type { AppLocale } from '@/utils/format'

export const LOCALE_STORAGE_KEY = 'servicelens.locale'
export const SUPPORTED_LOCALES: AppLocale[] = ['zh-CN', 'en']
export const DEFAULT_LOCALE: AppLocale = 'zh-CN'

export const messages: Record<AppLocale, MessageSchema> = { 'zh-CN': zhCN, en }

export function isSupportedLocale(v: unknown): v is AppLocale {
  return typeof v === 'string' && (SUPPORTED_LOCALES as string[]).includes(v)
}

export function storedLocale(): AppLocale {
  try {
    const v = localStorage.getItem(LOCALE_STORAGE_KEY)
    if (isSupportedLocale(v)) return v
  } catch {
    /* storage unavailable */
  }
  return DEFAULT_LOCALE
}

export const i18n = createI18n<[MessageSchema], AppLocale, false>({
  legacy: false,
  locale: storedLocale(),
  fallbackLocale: DEFAULT_LOCALE,
  messages,
  missingWarn: false,
  fallbackWarn: false,
})

export function currentLocale(): AppLocale {
  return i18n.global.locale.value
}

/** Switch the UI language and remember it in localStorage. */
export function setLocale(locale: AppLocale): void {
  i18n.global.locale.value = locale
  try {
    localStorage.setItem(LOCALE_STORAGE_KEY, locale)
  } catch {
    /* storage unavailable */
  }
  if (typeof document !== 'undefined') document.documentElement.lang = locale
}

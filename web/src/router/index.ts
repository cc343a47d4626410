import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useAuthStore } from '@/stores/auth'
import { NetworkError } from '@/api/client'

declare module 'vue-router' {
  interface RouteMeta {
    /** Pages reachable without a session (the login page). */
    public?: boolean
    /** i18n key of the page title (also the last breadcrumb). */
    title?: string
    /** i18n keys of the breadcrumbs before the title, with an optional link. */
    crumbs?: { title: string; to?: string }[]
    /** Menu entry to highlight. */
    menu?: string
    /** For placeholder pages: i18n key of the module name. */
    module?: string
    /** Roles allowed to open the page (all signed-in users when absent). */
    roles?: string[]
  }
}

const placeholder = (path: string, key: string): RouteRecordRaw => ({
  path,
  name: key,
  component: () => import('@/pages/PlaceholderPage.vue'),
  meta: { title: `menu.${key}`, menu: `/${path}`, module: `menu.${key}` },
})

const ADMIN = ['admin']
const settingsCrumb = { title: 'menu.settings' }

function adminRoutes(): RouteRecordRaw[] {
  const page = (
    path: string,
    name: string,
    title: string,
    component: RouteRecordRaw['component'],
    menu: string,
    parent?: { title: string; to: string },
    withId = false,
  ): RouteRecordRaw =>
    ({
      path,
      name,
      component,
      props: withId ? (route: { params: Record<string, unknown> }) => ({ id: Number(route.params.id) }) : undefined,
      meta: { title, crumbs: parent ? [settingsCrumb, parent] : [settingsCrumb], menu, roles: ADMIN },
    }) as RouteRecordRaw
  const calendars = { title: 'menu.settingsCalendars', to: '/settings/calendars' }
  const policies = { title: 'menu.settingsPolicies', to: '/settings/sla-policies' }
  const rules = { title: 'menu.settingsRules', to: '/settings/escalation-rules' }
  return [
    page('settings/calendars', 'calendars', 'menu.settingsCalendars', () => import('@/pages/settings/CalendarListPage.vue'), '/settings/calendars'),
    page('settings/calendars/:id(\\d+)', 'calendar', 'menu.calendarDetail', () => import('@/pages/settings/CalendarDetailPage.vue'), '/settings/calendars', calendars, true),
    page('settings/sla-policies', 'policies', 'menu.settingsPolicies', () => import('@/pages/settings/PolicyListPage.vue'), '/settings/sla-policies'),
    page('settings/sla-policies/new', 'policy-new', 'menu.policyNew', () => import('@/pages/settings/PolicyEditPage.vue'), '/settings/sla-policies', policies),
    page('settings/sla-policies/:id(\\d+)', 'policy-edit', 'menu.policyEdit', () => import('@/pages/settings/PolicyEditPage.vue'), '/settings/sla-policies', policies, true),
    page('settings/escalation-rules', 'rules', 'menu.settingsRules', () => import('@/pages/settings/RuleListPage.vue'), '/settings/escalation-rules'),
    page('settings/escalation-rules/new', 'rule-new', 'menu.ruleNew', () => import('@/pages/settings/RuleEditPage.vue'), '/settings/escalation-rules', rules),
    page('settings/escalation-rules/:id(\\d+)', 'rule-edit', 'menu.ruleEdit', () => import('@/pages/settings/RuleEditPage.vue'), '/settings/escalation-rules', rules, true),
    page('settings/channels', 'channels', 'menu.settingsChannels', () => import('@/pages/settings/ChannelsPage.vue'), '/settings/channels'),
    page('settings/jobs', 'jobs', 'menu.settingsJobs', () => import('@/pages/settings/JobsPage.vue'), '/settings/jobs'),
  ]
}

export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/pages/LoginPage.vue'),
    meta: { public: true, title: 'auth.login' },
  },
  {
    path: '/',
    component: () => import('@/layouts/AdminLayout.vue'),
    children: [
      { path: '', redirect: { name: 'tickets' } },
      placeholder('dashboard', 'dashboard'),
      {
        path: 'tickets',
        name: 'tickets',
        component: () => import('@/pages/tickets/TicketListPage.vue'),
        meta: { title: 'menu.ticketList', crumbs: [{ title: 'menu.tickets' }], menu: '/tickets' },
      },
      {
        path: 'tickets/:id(\\d+)',
        name: 'ticket',
        component: () => import('@/pages/tickets/TicketDetailPage.vue'),
        props: (route) => ({ id: Number(route.params.id) }),
        meta: {
          title: 'menu.ticketDetail',
          crumbs: [{ title: 'menu.tickets', to: '/tickets' }],
          menu: '/tickets',
        },
      },
      {
        path: 'customers',
        name: 'customers',
        component: () => import('@/pages/customers/CustomerListPage.vue'),
        meta: { title: 'menu.customerList', crumbs: [{ title: 'menu.customers' }], menu: '/customers' },
      },
      {
        path: 'customers/:id(\\d+)',
        name: 'customer',
        component: () => import('@/pages/customers/CustomerDetailPage.vue'),
        props: (route) => ({ id: Number(route.params.id) }),
        meta: {
          title: 'menu.customerDetail',
          crumbs: [{ title: 'menu.customers', to: '/customers' }],
          menu: '/customers',
        },
      },
      { path: 'sla', redirect: { name: 'sla-at-risk' } },
      {
        path: 'sla/at-risk',
        name: 'sla-at-risk',
        component: () => import('@/pages/sla/AtRiskPage.vue'),
        meta: { title: 'menu.slaAtRisk', crumbs: [{ title: 'menu.sla' }], menu: '/sla/at-risk' },
      },
      placeholder('surveys', 'surveys'),
      placeholder('feedback', 'feedback'),
      placeholder('metrics', 'metrics'),
      placeholder('goals', 'goals'),
      {
        ...placeholder('settings', 'settings'),
        // Administrators land on the first settings page; others see the placeholder.
        beforeEnter: () => (useAuthStore().user?.role === 'admin' ? { name: 'calendars' } : true),
      },
      ...adminRoutes(),
      {
        path: 'forbidden',
        name: 'forbidden',
        component: () => import('@/pages/ForbiddenPage.vue'),
        meta: { title: 'menu.forbidden' },
      },
      {
        path: ':pathMatch(.*)*',
        name: 'not-found',
        component: () => import('@/pages/NotFoundPage.vue'),
        meta: { title: 'notFound.title' },
      },
    ],
  },
]

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

router.beforeEach(async (to) => {
  const auth = useAuthStore()
  if (!auth.checked) {
    try {
      await auth.fetchMe()
    } catch (e) {
      // Server unreachable: let public pages render, otherwise show the login page.
      if (!(e instanceof NetworkError)) throw e
    }
  }
  if (to.meta.public) {
    if (to.name === 'login' && auth.isLoggedIn) {
      const redirect = typeof to.query.redirect === 'string' ? to.query.redirect : '/'
      return safeRedirect(redirect)
    }
    return true
  }
  if (!auth.isLoggedIn) {
    return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  if (to.meta.roles && !to.meta.roles.includes(auth.user?.role ?? '')) {
    return { name: 'forbidden' }
  }
  return true
})

/** Only allow in-app paths as a post-login redirect target. */
export function safeRedirect(target: unknown): string {
  if (typeof target !== 'string' || !target.startsWith('/') || target.startsWith('//')) return '/'
  return target
}

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
  }
}

const placeholder = (path: string, key: string): RouteRecordRaw => ({
  path,
  name: key,
  component: () => import('@/pages/PlaceholderPage.vue'),
  meta: { title: `menu.${key}`, menu: `/${path}`, module: `menu.${key}` },
})

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
      placeholder('sla', 'sla'),
      placeholder('surveys', 'surveys'),
      placeholder('feedback', 'feedback'),
      placeholder('metrics', 'metrics'),
      placeholder('goals', 'goals'),
      placeholder('settings', 'settings'),
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
  return true
})

/** Only allow in-app paths as a post-login redirect target. */
export function safeRedirect(target: unknown): string {
  if (typeof target !== 'string' || !target.startsWith('/') || target.startsWith('//')) return '/'
  return target
}

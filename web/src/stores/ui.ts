import { defineStore } from 'pinia'
import { ref } from 'vue'

/** Small bits of layout state pages can set (e.g. "#1024" after the breadcrumb title). */
export const useUiStore = defineStore('ui', () => {
  const titleSuffix = ref('')
  const menuCollapsed = ref(false)
  return { titleSuffix, menuCollapsed }
})

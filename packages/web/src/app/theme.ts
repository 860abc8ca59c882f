/** Light, dark, or whatever the OS says; kept in local storage, overridable by `?theme=`. */
export type ThemePreference = 'system' | 'light' | 'dark';
const STORAGE_KEY = 'cairn.theme';
const listeners = new Set<() => void>();

export function readThemePreference(): ThemePreference {
  const fromUrl = new URLSearchParams(window.location.search).get('theme');
  if (fromUrl === 'light' || fromUrl === 'dark' || fromUrl === 'system') return fromUrl;
  const stored = window.localStorage.getItem(STORAGE_KEY);
  return stored === 'light' || stored === 'dark' ? stored : 'system';
}

export function resolvedTheme(preference: ThemePreference): 'light' | 'dark' {
  if (preference !== 'system') return preference;
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function applyTheme(preference: ThemePreference): void {
  const root = document.documentElement;
  root.dataset.theme = resolvedTheme(preference);
  root.dataset.themePreference = preference;
  for (const listener of listeners) listener();
}

export function setThemePreference(preference: ThemePreference): void {
  if (preference === 'system') window.localStorage.removeItem(STORAGE_KEY);
  else window.localStorage.setItem(STORAGE_KEY, preference);
  applyTheme(preference);
}

/** Called whenever the applied theme changes (charts re-read their CSS variables then). */
export function onThemeChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The value of a CSS custom property of the page, for canvases that cannot use var(). */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  if (document.documentElement.dataset.themePreference === 'system') applyTheme('system');
});

/** How metric names become chart sections, and the chart search. Pure, for tests. */

export interface Section {
  name: string;
  metrics: string[];
}

export const DEFAULT_SECTION = 'Charts';

/**
 * Sections by name prefix: the text before the first `/` (`train/loss` → `train`). A name without
 * one goes to the section named by the text before its first `.` when at least two such names
 * share it (`sys.gpu.0.util`, `sys.cpu.util` → `sys`), else to "Charts". Sections are ordered by
 * name with "Charts" first; metrics by name within.
 */
export function groupSections(names: readonly string[]): Section[] {
  const dotted = new Map<string, number>();
  for (const name of names) {
    if (name.includes('/')) continue;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const head = name.slice(0, dot);
      dotted.set(head, (dotted.get(head) ?? 0) + 1);
    }
  }
  const sections = new Map<string, string[]>();
  for (const name of names) {
    const slash = name.indexOf('/');
    let section = DEFAULT_SECTION;
    if (slash > 0) section = name.slice(0, slash);
    else if (slash < 0) {
      const dot = name.indexOf('.');
      const head = dot > 0 ? name.slice(0, dot) : '';
      if (head && (dotted.get(head) ?? 0) >= 2) section = head;
    }
    const list = sections.get(section);
    if (list) list.push(name);
    else sections.set(section, [name]);
  }
  return [...sections.entries()]
    .sort(([a], [b]) => (a === DEFAULT_SECTION ? -1 : b === DEFAULT_SECTION ? 1 : a < b ? -1 : a > b ? 1 : 0))
    .map(([name, metrics]) => ({ name, metrics: [...metrics].sort() }));
}

/**
 * The chart search: a case-insensitive regular expression, or a plain substring while the text is
 * not a valid expression (typing `loss(` must not blank the page).
 */
export function metricMatcher(query: string): (name: string) => boolean {
  const text = query.trim();
  if (!text) return () => true;
  try {
    const pattern = new RegExp(text, 'i');
    return (name) => pattern.test(name);
  } catch {
    const lower = text.toLowerCase();
    return (name) => name.toLowerCase().includes(lower);
  }
}

/** `prefix` keeps names starting with it, `exclude` drops names starting with it. */
export function filterMetricNames(names: Iterable<string>, options: { prefix?: string; exclude?: string }): string[] {
  const out = new Set<string>();
  for (const name of names) {
    if (options.prefix && !name.startsWith(options.prefix)) continue;
    if (options.exclude && name.startsWith(options.exclude)) continue;
    out.add(name);
  }
  return [...out].sort();
}

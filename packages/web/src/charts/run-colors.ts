/**
 * One color per run, the same on every chart, table row, legend and swatch of the page. A run's
 * preferred slot of a 20-color palette comes from its key; a run whose slot is taken by a run seen
 * earlier on the page takes the next free one, so up to 20 runs shown together never share a
 * color (hashing alone made two of ten runs share one more often than not). Beyond 20 runs, colors
 * come from the key's hash over the whole hue circle. The palette reads on light and dark themes.
 */
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#59a14f',
  '#b07aa1',
  '#9c755f',
  '#17becf',
  '#d62789',
  '#bcbd22',
  '#1f4e99',
  '#ff9da7',
  '#2ca02c',
  '#8c564b',
  '#7f7f7f',
  '#9467bd',
  '#e377c2',
  '#c49c14',
  '#0f8a8a',
  '#a0522d',
  '#6b8e23',
];
const assigned = new Map<string, string>();
const taken = new Set<number>();

function hashOf(key: string): number {
  let hash = 2166136261;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return hash >>> 0;
}

export function runColor(key: string): string {
  const known = assigned.get(key);
  if (known) return known;
  const hash = hashOf(key);
  let color = `hsl(${hash % 360} 65% 48%)`;
  for (let probe = 0; probe < PALETTE.length; probe++) {
    const slot = (hash + probe) % PALETTE.length;
    if (!taken.has(slot)) {
      taken.add(slot);
      color = PALETTE[slot] ?? color;
      break;
    }
  }
  assigned.set(key, color);
  return color;
}

/** The color with an alpha, for bands and faint lines (canvas takes CSS color 4 syntax). */
export function withAlpha(color: string, alpha: number): string {
  const hsl = /^hsl\(([^/)]+)\)$/.exec(color)?.[1];
  if (hsl) return `hsl(${hsl.trim()} / ${alpha})`;
  const hex = /^#([0-9a-f]{6})$/i.exec(color)?.[1];
  if (!hex) return color;
  const n = Number.parseInt(hex, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

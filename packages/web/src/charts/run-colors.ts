/**
 * One color per run, the same on every chart, page and reload: derived from the run's key, so it
 * never depends on which other runs are selected. Hue comes from the key's hash over the whole
 * circle and lightness from two levels that read on light and dark backgrounds: a fixed palette of
 * 20 made two of ten runs share a color more often than not.
 */
const cache = new Map<string, string>();

export function runColor(key: string): string {
  const known = cache.get(key);
  if (known) return known;
  let hash = 2166136261;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  hash >>>= 0;
  const hue = hash % 360;
  const lightness = (hash >>> 9) % 2 === 0 ? 45 : 56;
  // Yellows and greens look washed out at the same lightness as blues: darken them a little.
  const adjusted = hue > 40 && hue < 170 ? lightness - 8 : lightness;
  const color = `hsl(${hue} 70% ${adjusted}%)`;
  cache.set(key, color);
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

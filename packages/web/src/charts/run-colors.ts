/**
 * One color per run, the same on every chart, page and reload: picked from the run's key, so it
 * never depends on which other runs are selected. The palette reads on light and dark backgrounds.
 */
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#59a14f',
  '#b07aa1',
  '#edc948',
  '#76b7b2',
  '#ff9da7',
  '#9c755f',
  '#2f7ed8',
  '#d35400',
  '#16a085',
  '#8e44ad',
  '#c0392b',
  '#27ae60',
  '#e67e22',
  '#3d9970',
  '#b10dc9',
  '#0074d9',
  '#85144b',
];

export function runColor(key: string): string {
  let hash = 2166136261;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return PALETTE[(hash >>> 0) % PALETTE.length] ?? '#4e79a7';
}

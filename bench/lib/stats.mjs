// Latency statistics and bounded measurement loops.

/**
 * Nearest-rank percentile of an ascending array.
 * @param {number[]} sorted @param {number} p in 0..100
 */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** @param {number[]} samplesMs */
export function summarize(samplesMs) {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const round = (/** @type {number|null} */ x) => (x === null ? null : Math.round(x * 1000) / 1000);
  return {
    n: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    p99Ms: round(percentile(sorted, 99)),
    minMs: round(sorted[0] ?? null),
    maxMs: round(sorted.at(-1) ?? null),
  };
}

/**
 * Runs `op` sequentially (one request in flight: latency, not throughput) up to `iterations`
 * times or until `budgetMs` is spent, after `warmup` untimed calls. `op` returns the timed span
 * in ms itself, so that client-side checks (parsing, counting) stay outside the timing. An op
 * that throws aborts the measurement: an errored request is never timed.
 * @param {(i: number) => Promise<number>} op
 * @param {{ iterations: number, budgetMs: number, warmup?: number }} opts
 */
export async function measure(op, { iterations, budgetMs, warmup = 3 }) {
  for (let i = 0; i < warmup; i++) await op(-1 - i);
  /** @type {number[]} */
  const samples = [];
  const deadline = performance.now() + budgetMs;
  for (let i = 0; i < iterations && performance.now() < deadline; i++) samples.push(await op(i));
  return { ...summarize(samples), timeBounded: samples.length < iterations };
}

// Benchmark shapes (issue #3). Every system gets the same shape in the same invocation.

/**
 * @typedef {object} Shape
 * @property {string} name
 * @property {number} runs
 * @property {number} metrics   metrics per run
 * @property {number} steps     points per metric
 * @property {string} [note]    how and why the shape was changed from its nominal size
 */

/** Nominal sizes, as written in the issue. */
export const SHAPES = /** @type {Record<string, Shape>} */ ({
  S: { name: 'S', runs: 10, metrics: 3, steps: 100 },
  M: { name: 'M', runs: 100, metrics: 25, steps: 1000 },
  Long: { name: 'Long', runs: 1, metrics: 25, steps: 1_000_000 },
  L: { name: 'L', runs: 1500, metrics: 1500, steps: 50 },
});

/**
 * L is 112.5 M points: no system here ingests that in 15 minutes on 2 cores (on M, Cairn did
 * ~66 k points/s, i.e. ~28 min; the fastest peer ~14 k, i.e. > 2 h). By default it keeps the metric width (the thing L
 * stresses: 1,500 series per run) and cuts the run count to 1/20; `--full` keeps the nominal size.
 */
export const L_DEFAULT_RUN_DIVISOR = 20;

/**
 * @param {string} name
 * @param {{ full?: boolean, runs?: number, metrics?: number, steps?: number }} overrides
 * @returns {Shape}
 */
export function resolveShape(name, overrides = {}) {
  const key = Object.keys(SHAPES).find((k) => k.toLowerCase() === name.toLowerCase());
  if (!key) throw new Error(`unknown shape "${name}" (expected one of ${Object.keys(SHAPES).join(', ')})`);
  const shape = { ...SHAPES[key] };
  const notes = [];
  if (key === 'L' && !overrides.full && overrides.runs === undefined) {
    shape.runs = Math.ceil(shape.runs / L_DEFAULT_RUN_DIVISOR);
    notes.push(
      `L scaled down to ${shape.runs} runs (1/${L_DEFAULT_RUN_DIVISOR} of 1,500; metrics and steps unchanged) so it ` +
        'can finish within 15 minutes per system on a 2-core machine; pass --full for the nominal 1,500 runs',
    );
  }
  for (const dim of /** @type {const} */ (['runs', 'metrics', 'steps'])) {
    const value = overrides[dim];
    if (value !== undefined) {
      if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${dim} must be a positive integer`);
      notes.push(`${dim} overridden: ${SHAPES[key][dim]} -> ${value}`);
      shape[dim] = value;
    }
  }
  if (notes.length) shape.note = notes.join('; ');
  return shape;
}

/** @param {Shape} shape */
export function totalPoints(shape) {
  return shape.runs * shape.metrics * shape.steps;
}

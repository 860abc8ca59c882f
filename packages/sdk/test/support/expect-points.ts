import { expect } from 'vitest';
import type { TestServer } from './server.js';

/** The value a test logs at `step` of metric `name` (so that stored values can be checked too). */
export function valueAt(name: string, step: number): number {
  return step + name.length / 1000;
}

/**
 * Asserts that a metric holds exactly the points of steps [0, count) — each once, with its value
 * — for every context given (null: no context).
 */
export async function expectExactSteps(
  server: TestServer,
  key: string,
  name: string,
  count: number,
  contexts: (string | null)[] = [null],
): Promise<void> {
  const points = await server.points(key, name);
  expect(points.length, `${name}: stored points`).toBe(count * contexts.length);
  for (const context of contexts) {
    const steps = points.filter((p) => p.context === context).map((p) => p.step as number);
    const sorted = [...steps].sort((a, b) => a - b);
    expect(new Set(steps).size, `${name}/${context}: distinct steps`).toBe(count);
    expect(sorted[0]).toBe(count > 0 ? 0 : undefined);
    expect(sorted[sorted.length - 1]).toBe(count > 0 ? count - 1 : undefined);
  }
  for (const p of points) expect(p.value).toBe(valueAt(name, p.step as number));
}

/**
 * For a writer that may have been cut short (SIGKILL): the stored points of a metric are steps
 * [0, n) each exactly once, n ≥ `atLeast`. Returns n.
 */
export async function expectExactPrefix(
  server: TestServer,
  key: string,
  name: string,
  atLeast: number,
): Promise<number> {
  const points = await server.points(key, name);
  const steps = points.map((p) => p.step as number).sort((a, b) => a - b);
  expect(new Set(steps).size, `${name}: no point stored twice`).toBe(steps.length);
  steps.forEach((step, i) => {
    expect(step).toBe(i);
  });
  expect(steps.length).toBeGreaterThanOrEqual(atLeast);
  return steps.length;
}

import { UsageError } from './errors.js';

const UNIT_MILLIS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A span such as `90d`, `12h`, `30m` or `2w`, in milliseconds; anything else is a usage error. */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+)([mhdw])$/.exec(text.trim());
  const millis = match ? Number(match[1]) * (UNIT_MILLIS[match[2] as string] as number) : Number.NaN;
  if (!Number.isSafeInteger(millis) || millis <= 0) {
    throw new UsageError(`${option} takes a span such as 90d, 12h, 30m or 2w, not "${text}"`);
  }
  return millis;
}

/** An ISO 8601 date (`2026-01-31`, midnight UTC) or date and time, as epoch ms. */
export function parseInstant(text: string, option: string): number {
  const trimmed = text.trim();
  const at = /^\d{4}-\d\d-\d\d([T ].*)?$/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new UsageError(
      `${option} takes an ISO 8601 date or date and time (2026-01-31, 2026-01-31T12:00Z), not "${text}"`,
    );
  }
  return at;
}

/** `--since`: an ISO 8601 instant, or a span back from now (`7d`: the last seven days). */
export function parseSince(text: string, now: number): number {
  return /^\d+[mhdw]$/.test(text.trim()) ? now - parseDuration(text, '--since') : parseInstant(text, '--since');
}

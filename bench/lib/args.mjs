/** A numeric option's value (`--name`) as a positive integer; anything else is a usage error. */
export function positiveInt(name, value) {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

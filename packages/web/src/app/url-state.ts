import { useCallback, useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';

/**
 * One readable query parameter as view state, so back/forward and shared links restore the view.
 * `push` makes a history entry (a committed change); the default replaces (typing, dragging).
 * A value set here shows at once: the router's navigation lands a moment later (later still on a
 * busy page), and a control bound to the URL alone would snap back until then.
 */
export function useUrlParam(
  name: string,
  fallback = '',
): [string, (value: string | null, options?: { push?: boolean }) => void] {
  const [params, setParams] = useSearchParams();
  const fromUrl = params.get(name) ?? fallback;
  const [pending, setPending] = useState<{ value: string } | null>(null);
  // The URL caught up, or moved on its own (back, forward, a link): it is the truth again.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the URL's value is what clears it.
  useEffect(() => setPending(null), [fromUrl]);
  const value = pending?.value ?? fromUrl;
  const set = useCallback(
    (next: string | null, options?: { push?: boolean }) => {
      setPending({ value: next === null || next === '' ? fallback : next });
      setParams(
        (current) => {
          const updated = new URLSearchParams(current);
          if (next === null || next === '' || next === fallback) updated.delete(name);
          else updated.set(name, next);
          return updated;
        },
        { replace: !options?.push },
      );
    },
    [name, fallback, setParams],
  );
  return [value, set];
}

/** A comma-separated list parameter (`sel=k1,k2`). */
export function useUrlList(name: string): [string[], (values: string[], options?: { push?: boolean }) => void] {
  const [raw, setRaw] = useUrlParam(name);
  const values = raw ? raw.split(',').filter(Boolean) : [];
  const set = useCallback((next: string[], options?: { push?: boolean }) => setRaw(next.join(','), options), [setRaw]);
  return [values, set];
}

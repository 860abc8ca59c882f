import { useCallback } from 'react';
import { useSearchParams } from 'react-router';

/**
 * One readable query parameter as view state, so back/forward and shared links restore the view.
 * `push` makes a history entry (a committed change); the default replaces (typing, dragging).
 */
export function useUrlParam(
  name: string,
  fallback = '',
): [string, (value: string | null, options?: { push?: boolean }) => void] {
  const [params, setParams] = useSearchParams();
  const value = params.get(name) ?? fallback;
  const set = useCallback(
    (next: string | null, options?: { push?: boolean }) => {
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

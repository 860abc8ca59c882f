/** One compared name: its value (as text) in each experiment, null where the experiment lacks it. */
export interface CompareRow {
  name: string;
  cells: (string | null)[];
}

export function differs(row: CompareRow): boolean {
  return row.cells.some((cell) => cell !== row.cells[0]);
}

/** Rows of every name any experiment has, sorted by name. */
export function compareRows<T>(
  lists: (T[] | undefined)[],
  name: (item: T) => string,
  text: (item: T) => string,
): CompareRow[] {
  const names = new Set<string>();
  const maps = lists.map((list) => {
    const map = new Map<string, string>();
    for (const item of list ?? []) {
      names.add(name(item));
      map.set(name(item), text(item));
    }
    return map;
  });
  return [...names].sort().map((n) => ({ name: n, cells: maps.map((map) => map.get(n) ?? null) }));
}

import { type Kysely, sql } from 'kysely';
import type { LoggedValueType } from '../../core/entities.js';
import { ENVIRONMENT_FIELDS, type EnvironmentField } from '../../core/experiment-query.js';
import type { KeySource } from '../../core/store.port.js';
import type { Database } from './database.js';
import type { SqlDialect } from './dialect.js';

/**
 * Upkeep of `project_keys` (migration 0009), the per-project key catalogue. Every write that
 * gives an experiment a key it lacked, takes one away, or changes the type of a parameter's
 * current value calls in here inside its own transaction, so the counts move with the data.
 * Writes that change which projects list an experiment (moves, symlinks, deletes) carry all of
 * its keys along. The writers: logged values, series creation, tags, the system-details
 * document, experiment update (move), symlink and delete.
 */

/** A change to one key's counts: +1/−1 experiments, and ±1 per type of current value. */
export interface KeyDelta {
  source: KeySource;
  name: string;
  experiments: number;
  numbers: number;
  strings: number;
  booleans: number;
}

export function keyDelta(source: KeySource, name: string, sign: 1 | -1, type?: LoggedValueType): KeyDelta {
  return {
    source,
    name,
    experiments: sign,
    numbers: type === 'number' ? sign : 0,
    strings: type === 'string' ? sign : 0,
    booleans: type === 'boolean' ? sign : 0,
  };
}

/** The projects that list the experiment: its home and every project it is symlinked into. */
export async function memberProjects(db: Kysely<Database>, experimentId: string): Promise<string[]> {
  const { rows } = await sql<{ project_id: string }>`
    select project_id from experiments where id = ${experimentId}
    union select project_id from experiment_symlinks where experiment_id = ${experimentId}
  `.execute(db);
  return rows.map((r) => r.project_id);
}

/** The projects listing an experiment, as a subquery of their ids. */
function membersOf(experimentId: string) {
  return sql`(select project_id from experiments where id = ${experimentId}
              union select project_id from experiment_symlinks where experiment_id = ${experimentId})`;
}

/**
 * Applies deltas to the catalogues of the projects listing the experiment. One statement finds
 * those projects and upserts every delta into each: this runs on the first write of each new
 * key, i.e. several times per new experiment, where separate lookups showed in ingest.
 */
export async function countKeyChanges(
  db: Kysely<Database>,
  dialect: SqlDialect,
  experimentId: string,
  deltas: KeyDelta[],
): Promise<void> {
  const changes = merged(deltas);
  if (changes.length === 0) return;
  const chunk = Math.floor((dialect.maxBindParameters - 2) / 6);
  for (let start = 0; start < changes.length; start += chunk) {
    // Casts: PostgreSQL types bare parameters in VALUES as text.
    const rows = changes
      .slice(start, start + chunk)
      .map(
        (d) =>
          sql`(cast(${d.source} as text), cast(${d.name} as text), cast(${d.experiments} as bigint), cast(${d.numbers} as bigint), cast(${d.strings} as bigint), cast(${d.booleans} as bigint))`,
      );
    // "where true": SQLite needs it to read ON CONFLICT after INSERT … SELECT … FROM.
    await sql`
      insert into project_keys (project_id, source, name, experiments, numbers, strings, booleans)
      select m.project_id, d.column1, d.column2, d.column3, d.column4, d.column5, d.column6
      from ${membersOf(experimentId)} m cross join (values ${sql.join(rows)}) d
      where true
      on conflict (project_id, source, name) do update set
        experiments = project_keys.experiments + excluded.experiments,
        numbers = project_keys.numbers + excluded.numbers,
        strings = project_keys.strings + excluded.strings,
        booleans = project_keys.booleans + excluded.booleans
    `.execute(db);
  }
  if (changes.some((d) => d.experiments < 0)) {
    await sql`delete from project_keys where project_id in ${membersOf(experimentId)} and experiments <= 0`.execute(db);
  }
}

/** Adds the deltas to each of the given projects' counts; a key no experiment has any more leaves the catalogue. */
export async function applyKeyDeltas(
  db: Kysely<Database>,
  dialect: SqlDialect,
  projectIds: readonly string[],
  deltas: KeyDelta[],
): Promise<void> {
  const changes = merged(deltas);
  if (changes.length === 0 || projectIds.length === 0) return;
  const rows = projectIds.flatMap((projectId) => changes.map((d) => ({ project_id: projectId, ...d })));
  const chunk = Math.floor(dialect.maxBindParameters / 7);
  for (let start = 0; start < rows.length; start += chunk) {
    await db
      .insertInto('project_keys')
      .values(rows.slice(start, start + chunk))
      .onConflict((oc) =>
        oc.columns(['project_id', 'source', 'name']).doUpdateSet((eb) => ({
          experiments: eb('project_keys.experiments', '+', eb.ref('excluded.experiments')),
          numbers: eb('project_keys.numbers', '+', eb.ref('excluded.numbers')),
          strings: eb('project_keys.strings', '+', eb.ref('excluded.strings')),
          booleans: eb('project_keys.booleans', '+', eb.ref('excluded.booleans')),
        })),
      )
      .execute();
  }
  if (changes.some((d) => d.experiments < 0)) {
    await db
      .deleteFrom('project_keys')
      .where('project_id', 'in', [...new Set(projectIds)])
      .where('experiments', '<=', 0)
      .execute();
  }
}

/** Deltas of the same key summed; keys whose counts do not change left out. */
function merged(deltas: KeyDelta[]): KeyDelta[] {
  const byKey = new Map<string, KeyDelta>();
  for (const d of deltas) {
    const id = `${d.source}\u0000${d.name}`;
    const seen = byKey.get(id);
    if (!seen) byKey.set(id, { ...d });
    else {
      seen.experiments += d.experiments;
      seen.numbers += d.numbers;
      seen.strings += d.strings;
      seen.booleans += d.booleans;
    }
  }
  return [...byKey.values()].filter(
    (d) => d.experiments !== 0 || d.numbers !== 0 || d.strings !== 0 || d.booleans !== 0,
  );
}

/** Every key the experiment has, each as a +1 delta (negate to take them away). */
export async function keysOf(db: Kysely<Database>, experimentId: string): Promise<KeyDelta[]> {
  // One after another: inside a transaction the statements share one connection.
  const values = await db
    .selectFrom('experiment_value_current')
    .select(['kind', 'name', 'value_type'])
    .where('experiment_id', '=', experimentId)
    .execute();
  const series = await db.selectFrom('series').select('name').where('experiment_id', '=', experimentId).execute();
  const tags = await db.selectFrom('experiment_tags').select('tag').where('experiment_id', '=', experimentId).execute();
  const details = await db
    .selectFrom('experiment_documents')
    .select('body')
    .where('experiment_id', '=', experimentId)
    .where('kind', '=', 'system-details')
    .executeTakeFirst();
  return [
    ...values.map((v) => keyDelta(v.kind as KeySource, v.name, 1, v.value_type as LoggedValueType)),
    ...series.map((s) => keyDelta('metric', s.name, 1)),
    ...tags.map((t) => keyDelta('tag', t.tag, 1)),
    ...systemFields(details?.body).map((field) => keyDelta('system', field, 1)),
  ];
}

export function negate(deltas: KeyDelta[]): KeyDelta[] {
  return deltas.map((d) => ({
    ...d,
    experiments: -d.experiments,
    numbers: -d.numbers,
    strings: -d.strings,
    booleans: -d.booleans,
  }));
}

/**
 * The system-details fields a document sets: present and not JSON null, as the query's
 * `system.<field> is null` reads them.
 */
export function systemFields(body: string | undefined): EnvironmentField[] {
  if (body === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return [];
  const fields = parsed as Record<string, unknown>;
  return ENVIRONMENT_FIELDS.filter((field) => Object.hasOwn(fields, field) && fields[field] !== null);
}

// A fresh PostgreSQL schema per benchmarked server, created and dropped around the run, so runs
// never see each other's tables (the test suites isolate themselves the same way).
// The client is node-postgres from the server's own dependencies (installed by `npm ci`).

import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Where a benchmark finds PostgreSQL unless told (`--postgres-url`): the development database. */
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** @param {string} repoRoot */
function pgClient(repoRoot, url) {
  const pg = createRequire(join(repoRoot, 'packages', 'server', 'package.json'))('pg');
  return new pg.Client({ connectionString: url });
}

/**
 * Creates `bench_<random>` and returns the URL Cairn is started with, the schema's size on disk
 * (tables, indexes and TOAST) and a `drop` that removes it.
 * @param {string} repoRoot @param {string} url a postgres:// URL without a query string
 */
export async function freshSchema(repoRoot, url) {
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const admin = pgClient(repoRoot, url);
  await admin.connect();
  try {
    await admin.query(`create schema ${schema}`);
  } catch (error) {
    await admin.end();
    throw error;
  }
  return {
    schema,
    url: `${url}?schema=${schema}`,
    /** A query on the admin connection (pg_stat_activity and the like). @param {string} text @param {unknown[]} [params] */
    query: (text, params) => admin.query(text, params),
    /** Bytes of every relation in the schema, as pg_total_relation_size counts them. */
    async sizeBytes() {
      const r = await admin.query(
        `select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint as bytes
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = $1 and c.relkind in ('r', 'm')`,
        [schema],
      );
      return Number(r.rows[0].bytes);
    },
    /** The server's settings that bound a cluster (max_connections) and its durability. */
    async settings() {
      const r = await admin.query(
        `select name, setting from pg_settings
          where name in ('max_connections', 'synchronous_commit', 'fsync', 'shared_buffers', 'server_version')`,
      );
      return Object.fromEntries(r.rows.map((row) => [row.name, row.setting]));
    },
    async drop() {
      try {
        await admin.query(`drop schema ${schema} cascade`);
      } finally {
        await admin.end();
      }
    },
  };
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import type { FastifyInstance, InjectOptions } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { BlobStore } from '../../src/core/blob.port.js';
import type { Clock } from '../../src/core/clock.port.js';
import { type Core, createCore, type WebhookDeps } from '../../src/core/core.js';
import type { RateLimitSettings } from '../../src/core/rate-limit.js';
import type { Store } from '../../src/core/store.port.js';
import { type AppOptions, buildApp } from '../../src/http/app.js';
import { FileBlobStore } from '../../src/storage/blob/file-blob.store.js';
import { SqlStore } from '../../src/storage/sql/sql-store.js';

export type Backend = 'sqlite' | 'postgres';

/**
 * PostgreSQL is part of every test run (CI starts it). Set CAIRN_TEST_SKIP_POSTGRES=1 to run the
 * SQLite half alone on a machine without it.
 */
export const POSTGRES_URL = process.env.CAIRN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const backends: Backend[] = process.env.CAIRN_TEST_SKIP_POSTGRES === '1' ? ['sqlite'] : ['sqlite', 'postgres'];

export const ADMIN_KEY = 'AdminKeyForTests0000000000000000000000000';
export const PUBLIC_URL = 'http://cairn.test';

export interface TestStore {
  store: SqlStore;
  blobDir: string;
  /** The SQLite database file (SQLite stores only). */
  file?: string;
  /** Every row of a table, read over a connection of its own (to look at what is stored). */
  rows(table: string): Promise<Record<string, unknown>[]>;
  /**
   * Runs one SQL statement (literals inlined, unqualified table names) over a connection of its
   * own: for rows no store method writes yet.
   */
  execute(statement: string): Promise<void>;
  close(): Promise<void>;
}

export interface TestStoreOptions {
  /** SQLite's lock wait (5 s by default). */
  busyTimeoutMillis?: number;
  /** Rewrites the PostgreSQL URL the store connects to (e.g. through a proxy the test controls). */
  postgresUrl?: (url: string) => string;
  /** PostgreSQL: how long a request waits for a connection (5 s by default). */
  connectTimeoutMillis?: number;
  /**
   * The folder the SQLite file and the blobs go in (a small volume the test fills); the test owns
   * it and its removal. A fresh temp folder by default.
   */
  dir?: string;
}

/** A fresh, migrated store: a temp SQLite file, or a throwaway PostgreSQL schema. */
export async function openTestStore(backend: Backend, options: TestStoreOptions = {}): Promise<TestStore> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'cairn-test-')));
  const removeDir = options.dir ? async () => {} : () => rm(dir, { recursive: true, force: true });
  const blobDir = join(dir, 'blobs');
  if (backend === 'sqlite') {
    const store = await SqlStore.open(`sqlite:${join(dir, 'cairn.db')}`, {
      synchronous: 'normal',
      ...(options.busyTimeoutMillis === undefined ? {} : { busyTimeoutMillis: options.busyTimeoutMillis }),
    });
    const file = join(dir, 'cairn.db');
    return {
      store,
      blobDir,
      file,
      rows: async (table) => {
        const db = new Sqlite(file, { readonly: true });
        try {
          return db.prepare(`select * from ${table}`).all() as Record<string, unknown>[];
        } finally {
          db.close();
        }
      },
      execute: async (statement) => {
        const db = new Sqlite(file);
        try {
          db.exec(statement);
        } finally {
          db.close();
        }
      },
      close: async () => {
        await store.close();
        await removeDir();
      },
    };
  }
  const schema = `t_${Math.random().toString(36).slice(2, 12)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const url = options.postgresUrl ? options.postgresUrl(POSTGRES_URL) : POSTGRES_URL;
  const store = await SqlStore.open(
    `${url}?schema=${schema}`,
    undefined,
    options.connectTimeoutMillis === undefined ? {} : { connectTimeoutMillis: options.connectTimeoutMillis },
  );
  return {
    store,
    blobDir,
    rows: async (table) => (await admin.query(`select * from ${schema}.${table}`)).rows,
    execute: async (statement) => {
      await admin.query(`set search_path to ${schema}; ${statement}; set search_path to default`);
    },
    close: async () => {
      await store.close();
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
      await removeDir();
    },
  };
}

/**
 * Opens a fresh store for the suite it is called in (before its tests) and closes it after them;
 * `use` receives the store. The store-contract suites share this preamble.
 */
export function useTestStore(backend: Backend, use: (store: SqlStore) => void): void {
  let testStore: TestStore | undefined;
  beforeAll(async () => {
    testStore = await openTestStore(backend);
    use(testStore.store);
  });
  afterAll(async () => {
    await testStore?.close();
  });
}

export interface TestContext {
  backend: Backend;
  app: FastifyInstance;
  core: Core;
  store: Store;
  /** The blob store the core writes to (a folder of the throwaway store). */
  blobs: BlobStore;
  /** The folder the file blob store keeps its files in. */
  blobDir: string;
  /** The SQLite database file (SQLite contexts only). */
  databaseFile?: string;
  /** Every row of a table of the store, as the database holds it. */
  rows(table: string): Promise<Record<string, unknown>[]>;
  /** The bootstrap admin's key (member of workspace "default"). */
  adminKey: string;
  /** Key of "bob", another tenant (member of workspace "bob" only). */
  otherKey: string;
  /** Key of the admin user with the read scope only. */
  readOnlyKey: string;
  /** inject() with a key: `request('GET', url, { key })`; the admin key by default. */
  request(
    method: InjectOptions['method'],
    url: string,
    options?: RequestOptions,
  ): ReturnType<FastifyInstance['inject']>;
  close(): Promise<void>;
}

export interface RequestOptions {
  key?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
  payload?: InjectOptions['payload'];
}

/**
 * A whole server (core + HTTP app) over a fresh store, with two tenants. `webhooks` gives the core
 * a webhook sender; its dispatcher is started only when the test starts it. `config` overrides
 * the app's configuration; `clock` and `sessionTtlMillis` the core's.
 */
export async function createTestContext(
  backend: Backend,
  options: {
    webhooks?: WebhookDeps;
    config?: Partial<AppOptions['config']>;
    store?: TestStoreOptions;
    /** The core's clock (the system's by default). */
    clock?: Clock;
    sessionTtlMillis?: number;
    /** The core's limit on metric points per second per API key (none by default). */
    pointsRateLimit?: RateLimitSettings;
    /** The core's storage quota per workspace, in bytes (none by default). */
    workspaceQuotaBytes?: number;
    /** Wraps the blob store the core gets (a FileBlobStore in the store's folder), e.g. to inject faults. */
    blobs?: (files: FileBlobStore) => BlobStore;
    /** The app's logger (none by default); tests that read the log pass a stream. */
    logger?: AppOptions['logger'];
  } = {},
): Promise<TestContext> {
  const testStore = await openTestStore(backend, options.store);
  const files = new FileBlobStore(testStore.blobDir);
  const blobs = options.blobs ? options.blobs(files) : files;
  const core = createCore({
    store: testStore.store,
    blobs,
    blobDir: testStore.blobDir,
    limits: { maxAssetBytes: 1024 * 1024, workspaceQuotaBytes: options.workspaceQuotaBytes ?? 0 },
    ...(options.webhooks ? { webhooks: options.webhooks } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.sessionTtlMillis ? { sessionTtlMillis: options.sessionTtlMillis } : {}),
    ...(options.pointsRateLimit ? { pointsRateLimit: options.pointsRateLimit } : {}),
  });
  await core.auth.bootstrap(ADMIN_KEY);
  await core.auth.createUser('bob');
  const otherKey = (await core.auth.createKey('bob', 'test', ['read', 'write'])).secret;
  const readOnlyKey = (await core.auth.createKey('admin', 'read-only', ['read'])).secret;
  const app = await buildApp({
    core,
    config: { bodyLimitBytes: 2 * 1024 * 1024, publicUrl: PUBLIC_URL, ...options.config },
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return {
    backend,
    app,
    core,
    store: testStore.store,
    blobs,
    blobDir: testStore.blobDir,
    ...(testStore.file ? { databaseFile: testStore.file } : {}),
    rows: testStore.rows,
    adminKey: ADMIN_KEY,
    otherKey,
    readOnlyKey,
    request(method, url, options = {}) {
      const key = options.key === undefined ? ADMIN_KEY : options.key;
      const headers: Record<string, string> = { ...(key ? { authorization: key } : {}), ...options.headers };
      const inject: InjectOptions = { method, url, headers };
      if (options.payload !== undefined) inject.payload = options.payload;
      else if (options.body !== undefined) inject.payload = options.body as InjectOptions['payload'];
      return app.inject(inject);
    },
    async close() {
      await app.close();
      await core.webhookDispatcher.stop();
      await testStore.close();
    },
  };
}

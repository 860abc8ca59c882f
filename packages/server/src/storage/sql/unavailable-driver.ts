import type {
  CompiledQuery,
  DatabaseConnection,
  DatabaseIntrospector,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { StorageFullError, UnavailableError } from '../../core/errors.js';

/**
 * Says whether a driver error means "the database cannot answer now, ask again later" (connection
 * refused or lost, server shutting down, lock wait timed out) and, if so, after how many seconds;
 * `'storage-full'` when the database's disk is full (the core's StorageFullError).
 */
export type UnavailabilityClassifier = (error: unknown) => number | 'storage-full' | undefined;

/**
 * Wraps a dialect so that driver errors its classifier recognises surface as the core's
 * UnavailableError or StorageFullError (the facades answer 503 with Retry-After) instead of
 * leaking driver and SQL details as a 500. Every other error passes through untouched.
 */
export function withUnavailability(dialect: Dialect, classify: UnavailabilityClassifier): Dialect {
  return {
    createDriver: () => new UnavailabilityDriver(dialect.createDriver(), classify),
    createQueryCompiler: (): QueryCompiler => dialect.createQueryCompiler(),
    createAdapter: (): DialectAdapter => dialect.createAdapter(),
    createIntrospector: (db: Kysely<unknown>): DatabaseIntrospector => dialect.createIntrospector(db),
  };
}

function translate(error: unknown, classify: UnavailabilityClassifier): unknown {
  if (error instanceof UnavailableError || error instanceof StorageFullError) return error;
  const seconds = classify(error);
  if (seconds === undefined) return error;
  const unavailable =
    seconds === 'storage-full'
      ? new StorageFullError("the database's storage is full; retry later")
      : new UnavailableError('the database is unavailable; retry later', seconds);
  // Kept for the server log; the message clients see names no driver or SQL detail.
  unavailable.cause = error;
  return unavailable;
}

class UnavailabilityDriver implements Driver {
  /** The wrapper handed out for each of the inner driver's connections, and back. */
  private readonly outer = new WeakMap<DatabaseConnection, DatabaseConnection>();
  private readonly inner = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(
    private readonly driver: Driver,
    private readonly classify: UnavailabilityClassifier,
  ) {}

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw translate(error, this.classify);
    }
  }

  /** The inner driver's own connection: its methods rely on their private state (pg's release). */
  private unwrap(connection: DatabaseConnection): DatabaseConnection {
    return this.inner.get(connection) ?? connection;
  }

  init(): Promise<void> {
    return this.guard(() => this.driver.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.guard(() => this.driver.acquireConnection());
    let wrapped = this.outer.get(connection);
    if (!wrapped) {
      const classify = this.classify;
      wrapped = {
        executeQuery: <R>(query: CompiledQuery): Promise<QueryResult<R>> =>
          this.guard(() => connection.executeQuery<R>(query)),
        async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
          try {
            yield* connection.streamQuery<R>(query, chunkSize);
          } catch (error) {
            throw translate(error, classify);
          }
        },
      };
      this.outer.set(connection, wrapped);
      this.inner.set(wrapped, connection);
    }
    return wrapped;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.guard(() => this.driver.beginTransaction(this.unwrap(connection), settings));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.guard(() => this.driver.commitTransaction(this.unwrap(connection)));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.guard(() => this.driver.rollbackTransaction(this.unwrap(connection)));
  }

  savepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    return this.guard(() => this.required('savepoint')(this.unwrap(connection), name, compileQuery));
  }

  rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    return this.guard(() => this.required('rollbackToSavepoint')(this.unwrap(connection), name, compileQuery));
  }

  releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    return this.guard(() => this.required('releaseSavepoint')(this.unwrap(connection), name, compileQuery));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.driver.releaseConnection(this.unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.driver.destroy();
  }

  private required(method: 'savepoint' | 'rollbackToSavepoint' | 'releaseSavepoint') {
    const implementation = this.driver[method];
    if (!implementation) throw new Error(`the \`${method}\` method is not supported by this driver`);
    return implementation.bind(this.driver);
  }
}

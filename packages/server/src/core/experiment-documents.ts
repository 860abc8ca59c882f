/**
 * Shapes and merge rules of the JSON documents kept per experiment whose writes are partial:
 * system details and dependencies. Pure functions, applied inside the transaction of
 * `ExperimentsService.updateDocument`, so every facade merges the same way.
 */

import type { DocumentKind } from './entities.js';
import { InvalidArgumentError } from './errors.js';
import { entryName } from './rules.js';

/**
 * A whole document as a client writes it. The JSON kinds are parsed and merged by every facade
 * that reads them, so they must be JSON of the stored shape: an object (git metadata, system and
 * cloud details) or a list of `{name, version}` objects (dependencies). HTML, code and graph are
 * free text.
 */
export function checkDocumentBody(kind: DocumentKind, body: string): void {
  if (kind === 'html' || kind === 'code' || kind === 'graph') return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new InvalidArgumentError(`the ${kind} document must be JSON text`);
  }
  if (kind === 'dependencies') {
    const valid =
      Array.isArray(parsed) &&
      parsed.every(
        (d: unknown) =>
          d !== null &&
          typeof d === 'object' &&
          typeof (d as Dependency).name === 'string' &&
          ((d as Dependency).version === undefined ||
            (d as Dependency).version === null ||
            typeof (d as Dependency).version === 'string'),
      );
    if (!valid) {
      throw new InvalidArgumentError('the dependencies document must be a JSON array of {name, version} objects');
    }
    return;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`the ${kind} document must be a JSON object`);
  }
}

/** One `{key, value}` pair of additional system info; values are kept as text. */
export interface AdditionalSystemInfo {
  key: string;
  value: string | null;
}

export interface GpuStaticInfo {
  gpuIndex: number | null;
  name: string | null;
  uuid: string | null;
  totalMemory: number | null;
  powerLimit: number | null;
}

/** The stored system details. Every field is optional: clients send one field per call. */
export interface SystemDetails {
  user?: string;
  pythonVersion?: string;
  pythonVersionVerbose?: string;
  pid?: number;
  osType?: string;
  os?: string;
  osRelease?: string;
  machine?: string;
  processor?: string;
  ip?: string;
  hostname?: string;
  env?: Record<string, string>;
  gpuStaticInfoList?: GpuStaticInfo[];
  logAdditionalSystemInfoList?: AdditionalSystemInfo[];
  networkInterfaceIps?: string[];
  command?: string[];
  executable?: string;
  osPackages?: string[];
  installedPackages?: string[];
  totalRam?: number;
  maxTotalMemory?: number;
}

/** A partial update: absent or null fields leave the stored value alone (clients send nulls). */
export type SystemDetailsPatch = { [K in keyof SystemDetails]?: SystemDetails[K] | null };

export function parseSystemDetails(json: string | null): SystemDetails {
  return json ? (JSON.parse(json) as SystemDetails) : {};
}

/**
 * Only the fields present change. `logAdditionalSystemInfoList` merges by key instead of being
 * replaced: comet_ml logs each additional info with its own call, so a replacing list would keep
 * only the last one.
 */
export function mergeSystemDetails(current: string | null, patch: SystemDetailsPatch): string {
  const merged: Record<string, unknown> = { ...parseSystemDetails(current) };
  for (const [field, value] of Object.entries(patch)) {
    if (value === null || value === undefined || field === 'logAdditionalSystemInfoList') continue;
    merged[field] = value;
  }
  if (patch.logAdditionalSystemInfoList) {
    const byKey = new Map(
      ((merged.logAdditionalSystemInfoList as AdditionalSystemInfo[] | undefined) ?? []).map((e) => [e.key, e]),
    );
    for (const entry of patch.logAdditionalSystemInfoList) byKey.set(entryName('system info', entry.key), entry);
    merged.logAdditionalSystemInfoList = [...byKey.values()];
  }
  return JSON.stringify(merged);
}

export interface Dependency {
  name: string;
  version: string | null;
}

export function parseDependencies(json: string | null): Dependency[] {
  return json ? (JSON.parse(json) as Dependency[]) : [];
}

/**
 * Dependencies are upserted by name (a later version replaces an earlier one, in place), so
 * clients that log them in several calls do not lose the earlier ones.
 */
export function mergeDependencies(current: string | null, added: Dependency[]): string {
  const byName = new Map(parseDependencies(current).map((d) => [d.name, d]));
  for (const dependency of added) byName.set(entryName('dependency', dependency.name), dependency);
  return JSON.stringify([...byName.values()]);
}

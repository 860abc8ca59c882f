import { CometError, type SummaryRow } from '@cairn/schemas/comet';
import type { OutputLine, SeriesSummary } from '../../../../core/entities.js';
import type { SystemDetails } from '../../../../core/experiment-documents.js';
import type { ValueSummary } from '../../../../core/experiments.service.js';

/** Wire ⇄ core mapping shared by the experiment-data routes. */

export const dataErrors = { 400: CometError, 401: CometError, 403: CometError, 404: CometError };

/** Metric summaries: Comet sends values as strings; nothing in Cairn edits a logged metric. */
export function seriesSummaryRow(summary: SeriesSummary): SummaryRow {
  const { min, max, last } = summary;
  return {
    name: summary.name,
    valueMax: String(max.value),
    valueMin: String(min.value),
    valueCurrent: String(last.value),
    timestampMax: max.timestamp,
    timestampMin: min.timestamp,
    timestampCurrent: last.timestamp,
    runContextMax: max.context,
    runContextMin: min.context,
    runContextCurrent: last.context,
    stepMax: max.step,
    stepMin: min.step,
    stepCurrent: last.step,
    editable: false,
  };
}

/** Parameter and other summaries: the logged text of each supplying value. */
export function valueSummaryRow(summary: ValueSummary): SummaryRow {
  const { min, max, current } = summary;
  return {
    name: summary.name,
    valueMax: max.text,
    valueMin: min.text,
    valueCurrent: current.text,
    timestampMax: max.timestamp,
    timestampMin: min.timestamp,
    timestampCurrent: current.timestamp,
    runContextMax: max.context,
    runContextMin: min.context,
    runContextCurrent: current.context,
    stepMax: max.step,
    stepMin: min.step,
    stepCurrent: current.step,
    editable: false,
  };
}

/**
 * JSON has no NaN or infinities; another facade's bulk path may store them. Python's float()
 * parses "NaN", "Infinity" and "-Infinity", so those strings round-trip through comet_ml.
 */
export function metricValueOut(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

/**
 * Parameter and other values arrive as any JSON. Scalars are logged as they are; objects and
 * arrays (comet_ml sends lists as they are) are kept as their JSON text.
 */
export function loggedScalar(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

/** Additional system info values are text on the read side (the Java SDK reads a String). */
export function infoText(value: unknown): string | null {
  const scalar = loggedScalar(value);
  return scalar === null ? null : String(scalar);
}

/**
 * Comet's `{output}` is stdout and stderr "joined with \n". comet_ml 3.32 sends chunks that already
 * end in a newline, newer comet_ml sends a print's text and its newline as two chunks, and the R
 * and Java SDKs send bare lines; so a newline is put between two chunks only when neither has one
 * there: neither doubled blank lines nor glued lines.
 */
export function joinOutput(lines: OutputLine[]): string {
  let output = '';
  for (const line of lines) {
    if (output !== '' && !output.endsWith('\n') && !line.text.startsWith('\n')) output += '\n';
    output += line.text;
  }
  return output;
}

/** Every key present (comet_ml raises KeyError otherwise); lists clients iterate default to []. */
export function systemDetailsOut(experimentKey: string, details: SystemDetails, systemMetricNames: string[]) {
  return {
    experimentKey,
    user: details.user ?? null,
    pythonVersion: details.pythonVersion ?? null,
    pythonVersionVerbose: details.pythonVersionVerbose ?? null,
    pid: details.pid ?? null,
    osType: details.osType ?? null,
    os: details.os ?? null,
    osRelease: details.osRelease ?? null,
    machine: details.machine ?? null,
    processor: details.processor ?? null,
    ip: details.ip ?? null,
    hostname: details.hostname ?? null,
    env: details.env ?? null,
    gpuStaticInfoList: (details.gpuStaticInfoList ?? []).map((gpu) => ({
      gpuIndex: gpu.gpuIndex ?? null,
      name: gpu.name ?? null,
      uuid: gpu.uuid ?? null,
      totalMemory: gpu.totalMemory ?? null,
      powerLimit: gpu.powerLimit ?? null,
    })),
    logAdditionalSystemInfoList: (details.logAdditionalSystemInfoList ?? []).map((e) => ({
      key: e.key,
      value: e.value ?? null,
    })),
    systemMetricNames,
    maxTotalMemory: details.maxTotalMemory ?? null,
    networkInterfaceIps: details.networkInterfaceIps ?? null,
    command: details.command ?? null,
    executable: details.executable ?? null,
    osPackages: details.osPackages ?? null,
    installedPackages: details.installedPackages ?? null,
    totalRam: details.totalRam ?? null,
  };
}

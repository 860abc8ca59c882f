import type { Experiment as WireExperiment } from '@cairn/schemas/foundry';
import type { SummaryPoint } from '../../../../core/entities.js';
import { parseIsoDateTime } from '../../../../core/experiment-query.js';
import type { ExperimentRecord } from '../../../../core/experiment-query.service.js';
import { experimentRid, modelRid, modelVersionRid } from '../../../../core/rids.js';
import type { CurrentValue } from '../../../../core/store.port.js';
import { DEFAULT_BRANCH } from './search-filter.mapper.js';

/** One Cairn experiment as a Foundry Experiment (spec §4); docs/api/foundry.md maps every field. */
export function toWireExperiment(record: ExperimentRecord): WireExperiment {
  const { experiment, run } = record;
  const statusMessage = experiment.error ?? (experiment.hasCrashed ? 'crashed' : undefined);
  return {
    rid: experimentRid(experiment.id),
    modelRid: modelRid(experiment.projectId),
    createdTime: new Date(experiment.createdAt).toISOString(),
    createdBy: experiment.createdBy,
    source: { type: 'sdk' },
    status: run.status,
    ...(statusMessage !== undefined && run.status === 'FAILED' ? { statusMessage } : {}),
    branch: record.gitBranch ?? DEFAULT_BRANCH,
    parameters: record.parameters.map((p) => ({ name: p.name, value: parameterValue(p) })),
    series: record.series.map((s) => ({
      name: s.name,
      length: s.count,
      value: {
        type: 'double' as const,
        ...aggregate('min', s.min),
        ...aggregate('max', s.max),
        ...aggregate('last', s.last),
      },
    })),
    summaryMetrics: record.series.flatMap((s) => [
      { seriesName: s.name, aggregation: 'MIN' as const, value: double(s.min.value) },
      { seriesName: s.name, aggregation: 'MAX' as const, value: double(s.max.value) },
      { seriesName: s.name, aggregation: 'LAST' as const, value: double(s.last.value) },
    ]),
    artifacts: Object.fromEntries(
      record.tables.map((t) => [
        t.name,
        {
          name: t.name,
          ...(t.description !== null ? { description: t.description } : {}),
          sizeBytes: t.sizeBytes,
          details: { type: 'table' as const, rowCount: t.rowCount },
        },
      ]),
    ),
    tags: record.tags,
    ...(record.registryVersionId !== null ? { linkedModelVersion: modelVersionRid(record.registryVersionId) } : {}),
    ...(experiment.name !== null ? { name: experiment.name } : {}),
  };
}

/**
 * Typed parameters: numbers are integers when logged without a fraction or exponent, texts that
 * are ISO-8601 times with a zone are datetimes (spec §4 ParameterValue).
 */
function parameterValue(p: CurrentValue): WireExperiment['parameters'][number]['value'] {
  if (p.type === 'boolean') return { type: 'boolean', value: p.text === 'true' };
  if (p.type === 'number') {
    const value = Number(p.text);
    return /^-?\d+$/.test(p.text) && Number.isSafeInteger(value)
      ? { type: 'integer', value }
      : { type: 'double', value: double(value) };
  }
  const ms = parseIsoDateTime(p.text);
  return ms !== undefined ? { type: 'datetime', value: new Date(ms).toISOString() } : { type: 'string', value: p.text };
}

/** Min and max skip NaN points; a series of NaN alone has no min or max to report. */
function aggregate(name: 'min' | 'max' | 'last', point: SummaryPoint): Record<string, number | string> {
  return name !== 'last' && Number.isNaN(point.value) ? {} : { [name]: double(point.value) };
}

/** JSON has no NaN or infinities; Conjure carries them as strings. */
export function double(value: number): number | string {
  if (Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

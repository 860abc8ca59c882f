import { type Static, Type } from '@sinclair/typebox';
import { EntryName } from '../shared/names.js';
import { NUMERIC_TEXT, SafeInteger, SafeTruncatedNumber, TimestampMillis } from '../shared/numbers.js';
import { Nullable, OptionalNullable } from './common.schema.js';

/**
 * Wire shapes of the data logged to one experiment (spec §3.4 #13, #15–25 and §4.2 #12–20,
 * #22–28): metrics, parameters, others, tags, documents, output and system details.
 */

const ExperimentKey = Type.String({ minLength: 1 });

/** Reads of one experiment's data name it in the query. */
export const ExperimentDataQuery = Type.Object({ experimentKey: ExperimentKey });

/** SummaryRow (spec §3.1): values are strings; each timestamp/step/context is the supplying point's. */
export const SummaryRow = Type.Object({
  name: Type.String(),
  valueMax: Type.String(),
  valueMin: Type.String(),
  valueCurrent: Type.String(),
  timestampMax: Type.Integer(),
  timestampMin: Type.Integer(),
  timestampCurrent: Type.Integer(),
  runContextMax: Nullable(Type.String()),
  runContextMin: Nullable(Type.String()),
  runContextCurrent: Nullable(Type.String()),
  stepMax: Nullable(Type.Integer()),
  stepMin: Nullable(Type.Integer()),
  stepCurrent: Nullable(Type.Integer()),
  editable: Type.Boolean(),
});
export type SummaryRow = Static<typeof SummaryRow>;

/** Metrics, parameters and others summaries share this shape. */
export const SummaryResponse = Type.Object({ values: Type.Array(SummaryRow) });

/** Where a point sits in the run; shared by the metric and system-metric writes. */
const PointPosition = {
  step: OptionalNullable(SafeInteger()),
  /**
   * A number, not an integer: comet_ml's `APIExperiment.log_metric` passes its timestamp argument
   * positionally into `epoch`, often a float. Fractions are truncated, as Comet's Java server does.
   */
  epoch: OptionalNullable(SafeTruncatedNumber),
  context: OptionalNullable(Type.String()),
  timestamp: OptionalNullable(TimestampMillis),
};

export const LogMetricBody = Type.Object({
  experimentKey: ExperimentKey,
  metricName: EntryName(),
  /**
   * Numbers (comet_ml, R) or numeric strings (Java), the strings as `NUMERIC_TEXT` states them.
   * A type list with string first: when coercion is needed (null, true) the value becomes a
   * string, which the core parses and refuses; a number-first list would store null or true as 0
   * or 1.
   */
  metricValue: Type.Unsafe<string | number>({ type: ['string', 'number'], pattern: NUMERIC_TEXT }),
  ...PointPosition,
});

export const GetMetricQuery = Type.Object({
  experimentKey: ExperimentKey,
  metricName: Type.String({ minLength: 1 }),
});

export const MetricPointRow = Type.Object({
  metricName: Type.String(),
  /** A number; non-finite values (only other facades can store them) as "NaN"/"Infinity"/"-Infinity". */
  metricValue: Type.Unsafe<number | string>({ type: ['number', 'string'] }),
  epoch: Nullable(Type.Integer()),
  timestamp: Type.Integer(),
  step: Nullable(Type.Integer()),
  runContext: Nullable(Type.String()),
  offset: Type.Integer(),
});

export const GetMetricResponse = Type.Object({ metrics: Type.Array(MetricPointRow) });

/** Parameter and other values may be any JSON; objects and arrays are stored as their JSON text. */
export const LogParameterBody = Type.Object({
  experimentKey: ExperimentKey,
  parameterName: EntryName(),
  parameterValue: Type.Unknown(),
  step: OptionalNullable(SafeInteger()),
  timestamp: OptionalNullable(TimestampMillis),
  context: OptionalNullable(Type.String()),
});

export const LogOtherBody = Type.Object({
  experimentKey: ExperimentKey,
  key: EntryName(),
  value: Type.Unknown(),
  timestamp: OptionalNullable(TimestampMillis),
});

export const AddTagsBody = Type.Object({
  experimentKey: ExperimentKey,
  addedTags: Type.Array(EntryName()),
});
export const TagsResponse = Type.Object({ tags: Type.Array(Type.String()) });

export const LogHtmlBody = Type.Object({
  experimentKey: ExperimentKey,
  html: Type.String(),
  override: OptionalNullable(Type.Boolean()),
  timestamp: OptionalNullable(Type.Number()),
});
/** Never-logged HTML reads as "" (clients concatenate and display it). */
export const HtmlResponse = Type.Object({ html: Type.String() });

export const SetCodeBody = Type.Object({ experimentKey: ExperimentKey, code: Type.String() });
export const CodeResponse = Type.Object({ code: Type.String() });

export const LogGraphBody = Type.Object({ experimentKey: ExperimentKey, graph: Type.String() });
export const GraphResponse = Type.Object({ graph: Type.String() });

const OutputLineInput = Type.Object({
  output: Type.String(),
  stderr: OptionalNullable(Type.Boolean()),
  localTimestamp: OptionalNullable(TimestampMillis),
  offset: OptionalNullable(SafeInteger()),
});

/** comet_ml and the Java SDK send `runContext`; the R SDK sends `context`. */
export const LogOutputBody = Type.Object({
  experimentKey: ExperimentKey,
  runContext: OptionalNullable(Type.String()),
  context: OptionalNullable(Type.String()),
  outputLines: Type.Array(OutputLineInput),
});
export const OutputResponse = Type.Object({ output: Type.String() });

const GitFields = {
  user: Nullable(Type.String()),
  root: Nullable(Type.String()),
  branch: Nullable(Type.String()),
  parent: Nullable(Type.String()),
  origin: Nullable(Type.String()),
};

export const GitMetadataBody = Type.Object({
  experimentKey: ExperimentKey,
  user: OptionalNullable(Type.String()),
  root: OptionalNullable(Type.String()),
  branch: OptionalNullable(Type.String()),
  parent: OptionalNullable(Type.String()),
  origin: OptionalNullable(Type.String()),
});
/** Every key present, null when never set. */
export const GitMetadataResponse = Type.Object(GitFields);

const GpuStaticInfoInput = Type.Object({
  gpuIndex: OptionalNullable(Type.Integer()),
  name: OptionalNullable(Type.String()),
  uuid: OptionalNullable(Type.String()),
  totalMemory: OptionalNullable(Type.Number()),
  powerLimit: OptionalNullable(Type.Number()),
});

/** Additional info values may be any scalar; they are kept as text. */
const AdditionalSystemInfoInput = Type.Object({
  key: EntryName(),
  value: Type.Unknown(),
});

/** Any subset of the fields: only those present (and not null) change. */
export const SystemDetailsBody = Type.Object({
  experimentKey: ExperimentKey,
  user: OptionalNullable(Type.String()),
  pythonVersion: OptionalNullable(Type.String()),
  pythonVersionVerbose: OptionalNullable(Type.String()),
  pid: OptionalNullable(Type.Integer()),
  osType: OptionalNullable(Type.String()),
  os: OptionalNullable(Type.String()),
  osRelease: OptionalNullable(Type.String()),
  machine: OptionalNullable(Type.String()),
  processor: OptionalNullable(Type.String()),
  ip: OptionalNullable(Type.String()),
  hostname: OptionalNullable(Type.String()),
  env: OptionalNullable(Type.Record(Type.String(), Type.String())),
  gpuStaticInfoList: OptionalNullable(Type.Array(GpuStaticInfoInput)),
  logAdditionalSystemInfoList: OptionalNullable(Type.Array(AdditionalSystemInfoInput)),
  networkInterfaceIps: OptionalNullable(Type.Array(Type.String())),
  command: OptionalNullable(Type.Array(Type.String())),
  executable: OptionalNullable(Type.String()),
  osPackages: OptionalNullable(Type.Array(Type.String())),
  installedPackages: OptionalNullable(Type.Array(Type.String())),
  totalRam: OptionalNullable(Type.Number()),
  maxTotalMemory: OptionalNullable(Type.Number()),
});

/**
 * Every key is always present (comet_ml indexes them and raises KeyError otherwise): null when
 * unset, except the three lists clients iterate, which are empty.
 */
export const SystemDetailsResponse = Type.Object({
  experimentKey: Type.String(),
  user: Nullable(Type.String()),
  pythonVersion: Nullable(Type.String()),
  pythonVersionVerbose: Nullable(Type.String()),
  pid: Nullable(Type.Integer()),
  osType: Nullable(Type.String()),
  os: Nullable(Type.String()),
  osRelease: Nullable(Type.String()),
  machine: Nullable(Type.String()),
  processor: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  hostname: Nullable(Type.String()),
  env: Nullable(Type.Record(Type.String(), Type.String())),
  gpuStaticInfoList: Type.Array(
    Type.Object({
      gpuIndex: Nullable(Type.Integer()),
      name: Nullable(Type.String()),
      uuid: Nullable(Type.String()),
      totalMemory: Nullable(Type.Number()),
      powerLimit: Nullable(Type.Number()),
    }),
  ),
  logAdditionalSystemInfoList: Type.Array(Type.Object({ key: Type.String(), value: Nullable(Type.String()) })),
  systemMetricNames: Type.Array(Type.String()),
  maxTotalMemory: Nullable(Type.Number()),
  networkInterfaceIps: Nullable(Type.Array(Type.String())),
  command: Nullable(Type.Array(Type.String())),
  executable: Nullable(Type.String()),
  osPackages: Nullable(Type.Array(Type.String())),
  installedPackages: Nullable(Type.Array(Type.String())),
  totalRam: Nullable(Type.Number()),
});

export const CloudDetailsBody = Type.Object({
  experimentKey: ExperimentKey,
  provider: OptionalNullable(Type.String()),
  metadata: OptionalNullable(Type.Record(Type.String(), Type.Unknown())),
});
/** All null when never set (spec §3.4 #19). */
export const CloudDetailsResponse = Type.Object({
  experimentKey: Nullable(Type.String()),
  provider: Nullable(Type.String()),
  metadata: Nullable(Type.Record(Type.String(), Type.Unknown())),
});

export const DependenciesBody = Type.Object({
  experimentKey: ExperimentKey,
  timestamp: OptionalNullable(Type.Number()),
  logDependencies: Type.Array(
    Type.Object({
      name: EntryName(),
      version: OptionalNullable(Type.String()),
    }),
  ),
});

export const GpuMetricsBody = Type.Object({
  experimentKey: ExperimentKey,
  gpus: Type.Array(
    Type.Object({
      gpuId: SafeInteger({ minimum: 0 }),
      freeMemory: OptionalNullable(Type.Number()),
      usedMemory: OptionalNullable(Type.Number()),
      gpuUtilization: OptionalNullable(Type.Number()),
      totalMemory: OptionalNullable(Type.Number()),
    }),
  ),
  ...PointPosition,
});

export const CpuMetricsBody = Type.Object({
  experimentKey: ExperimentKey,
  cpuPercentUtilization: Type.Array(Type.Number()),
  ...PointPosition,
});

export const RamMetricsBody = Type.Object({
  experimentKey: ExperimentKey,
  totalRam: OptionalNullable(Type.Number()),
  usedRam: OptionalNullable(Type.Number()),
  ...PointPosition,
});

export const LoadMetricsBody = Type.Object({
  experimentKey: ExperimentKey,
  loadAverage: OptionalNullable(Type.Number()),
  ...PointPosition,
});

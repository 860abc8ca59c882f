import type { Experiment, LoggedValue, SeriesSummary } from '@cairn/sdk';
import type { UseQueryResult } from '@tanstack/react-query';
import { type ReactNode, useId } from 'react';
import { Link, useParams } from 'react-router';
import { useManyExperiments, useManyLoggedValues, useManyMetricSummaries } from '../api/experiment.hooks';
import { InlineError, PanelBoundary } from '../app/panel';
import { useUrlList, useUrlParam } from '../app/url-state';
import { ChartPanel } from '../charts/chart-panel';
import { runColor } from '../charts/run-colors';
import { formatMetric, formatValue } from '../experiment/format';
import { type CompareRow, compareRows, differs } from './compare-rows';
import './compare.css';

interface Column {
  key: string;
  experiment: Experiment | undefined;
}

/** Failed or pending reads of a section, shown in the section only. */
function sectionState(queries: UseQueryResult<unknown>[]): ReactNode | null {
  const failed = queries.find((q) => q.isError);
  if (failed) {
    return (
      <InlineError
        error={failed.error}
        onRetry={() => {
          for (const q of queries) if (q.isError) void q.refetch();
        }}
      />
    );
  }
  if (queries.some((q) => q.isPending)) {
    return (
      <div className="muted" role="status">
        Loading…
      </div>
    );
  }
  return null;
}

export function ComparePage() {
  const params = useParams();
  const workspace = params.workspace ?? '';
  const project = params.project ?? '';
  const [keys, setKeys] = useUrlList('e');
  const [diff, setDiff] = useUrlParam('diff');
  const diffOnly = diff === '1';
  const experiments = useManyExperiments(keys);
  const columns: Column[] = keys.map((key, index) => ({ key, experiment: experiments[index]?.data }));
  const projectPath = `/${encodeURIComponent(workspace)}/${encodeURIComponent(project)}`;
  const switchId = useId();

  if (keys.length < 2) {
    return (
      <div className="page">
        <h1>Compare</h1>
        <p className="muted">
          Pick two or more experiments in <Link to={projectPath}>the project's table</Link> to compare them.
        </p>
      </div>
    );
  }
  return (
    <div className="page compare-page">
      <div className="compare-title">
        <Link to={projectPath} className="muted">
          {workspace} / {project}
        </Link>
        <h1>Compare {keys.length} experiments</h1>
        <label className="switch" htmlFor={switchId}>
          <input
            id={switchId}
            type="checkbox"
            role="switch"
            checked={diffOnly}
            aria-checked={diffOnly}
            onChange={(event) => setDiff(event.target.checked ? '1' : null, { push: true })}
          />
          Differences only
        </label>
      </div>
      <div className="compare-scroll">
        <table className="compare-table">
          <colgroup>
            <col className="compare-name-col" />
            {columns.map((c) => (
              <col key={c.key} />
            ))}
          </colgroup>
          <thead>
            <tr>
              <th scope="col" className="compare-corner">
                Experiment
              </th>
              {columns.map((column, index) => (
                <ExperimentHead
                  key={column.key}
                  column={column}
                  query={experiments[index]}
                  projectPath={projectPath}
                  onRemove={
                    keys.length > 2
                      ? () =>
                          setKeys(
                            keys.filter((k) => k !== column.key),
                            { push: true },
                          )
                      : undefined
                  }
                />
              ))}
            </tr>
          </thead>
          <PanelBoundary>
            <ValuesSection title="Parameters" kind="params" keys={keys} diffOnly={diffOnly} />
          </PanelBoundary>
          <PanelBoundary>
            <ValuesSection title="Others" kind="others" keys={keys} diffOnly={diffOnly} />
          </PanelBoundary>
          <PanelBoundary>
            <MetricsSection keys={keys} diffOnly={diffOnly} />
          </PanelBoundary>
        </table>
      </div>
      <section className="panel compare-charts" aria-label="Charts">
        <div className="panel-header">Charts</div>
        <div className="panel-body">
          <ChartPanel
            runs={columns.map((c) => ({ key: c.key, name: c.experiment?.name ?? c.key }))}
            metrics={{ project: { workspace, project } }}
          />
        </div>
      </section>
    </div>
  );
}

function ExperimentHead({
  column,
  query,
  projectPath,
  onRemove,
}: {
  column: Column;
  query: UseQueryResult<Experiment> | undefined;
  projectPath: string;
  onRemove: (() => void) | undefined;
}) {
  const experiment = column.experiment;
  return (
    <th scope="col" className="compare-head">
      <div className="compare-head-row">
        <span className="swatch" style={{ background: runColor(column.key) }} aria-hidden="true" />
        <Link to={`${projectPath}/${encodeURIComponent(column.key)}`} className="compare-head-name">
          {experiment?.name ?? column.key}
        </Link>
        {onRemove && (
          <button
            type="button"
            className="btn btn-small compare-remove"
            aria-label={`Remove ${experiment?.name ?? column.key} from the comparison`}
            onClick={onRemove}
          >
            ×
          </button>
        )}
      </div>
      {query?.isError ? (
        <InlineError error={query.error} onRetry={() => void query.refetch()} />
      ) : (
        experiment && (
          <span
            className={
              experiment.running
                ? 'badge badge-running'
                : experiment.status === 'FAILED'
                  ? 'badge badge-failed'
                  : 'badge badge-ok'
            }
          >
            {experiment.running ? 'running' : experiment.status === 'FAILED' ? 'failed' : 'ended'}
          </span>
        )
      )}
    </th>
  );
}

function Section({
  title,
  span,
  rows,
  diffOnly,
  state,
  tools,
}: {
  title: string;
  span: number;
  rows: CompareRow[];
  diffOnly: boolean;
  state: ReactNode | null;
  tools?: ReactNode;
}) {
  const shown = diffOnly ? rows.filter(differs) : rows;
  return (
    <tbody aria-label={title}>
      <tr className="compare-section">
        <th colSpan={span} scope="rowgroup">
          {title}{' '}
          {!state && (
            <span className="muted">{diffOnly ? `${shown.length} of ${rows.length} differ` : rows.length}</span>
          )}
          {tools}
        </th>
      </tr>
      {state ? (
        <tr>
          <td colSpan={span}>{state}</td>
        </tr>
      ) : shown.length === 0 ? (
        <tr>
          <td colSpan={span} className="muted">
            {rows.length === 0 ? 'None logged.' : 'No differences.'}
          </td>
        </tr>
      ) : (
        shown.map((row) => (
          <tr key={row.name} className={differs(row) ? 'differs' : undefined} data-name={row.name}>
            <th scope="row">{row.name}</th>
            {row.cells.map((cell, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a cell's place is its experiment's column.
              <td key={index} className="mono">
                {cell ?? <span className="muted">—</span>}
              </td>
            ))}
          </tr>
        ))
      )}
    </tbody>
  );
}

function ValuesSection({
  title,
  kind,
  keys,
  diffOnly,
}: {
  title: string;
  kind: 'params' | 'others';
  keys: string[];
  diffOnly: boolean;
}) {
  const queries = useManyLoggedValues(keys, kind);
  const rows = compareRows<LoggedValue>(
    queries.map((q) => q.data),
    (v) => v.name,
    (v) => formatValue(v.value),
  );
  return <Section title={title} span={keys.length + 1} rows={rows} diffOnly={diffOnly} state={sectionState(queries)} />;
}

const AGGREGATES = ['last', 'min', 'max'] as const;
type Aggregate = (typeof AGGREGATES)[number];

function MetricsSection({ keys, diffOnly }: { keys: string[]; diffOnly: boolean }) {
  const queries = useManyMetricSummaries(keys);
  const [aggParam, setAgg] = useUrlParam('agg', 'last');
  const agg: Aggregate = (AGGREGATES as readonly string[]).includes(aggParam) ? (aggParam as Aggregate) : 'last';
  const rows = compareRows<SeriesSummary>(
    queries.map((q) => q.data),
    (s) => s.name,
    (s) => formatMetric(s[agg].value),
  );
  return (
    <Section
      title="Metrics"
      span={keys.length + 1}
      rows={rows}
      diffOnly={diffOnly}
      state={sectionState(queries)}
      tools={
        <label className="compare-agg">
          <span className="visually-hidden">Metric summary</span>
          <select
            className="input input-small"
            aria-label="Metric summary"
            value={agg}
            onChange={(event) => setAgg(event.target.value, { push: true })}
          >
            {AGGREGATES.map((a) => (
              <option key={a} value={a}>
                {a} value
              </option>
            ))}
          </select>
        </label>
      }
    />
  );
}

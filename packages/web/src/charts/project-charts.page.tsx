import { useEffect, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useExperimentChoices, useExperimentNames } from '../api/experiments.hooks';
import { InlineError, PanelBoundary } from '../app/panel';
import { useUrlList } from '../app/url-state';
import { ChartPanel, type ChartRun } from './chart-panel';
import { runColor } from './run-colors';
import './charts.css';

const enc = encodeURIComponent;

/**
 * `/:workspace/:project/charts?sel=k1,k2`: the selected runs' charts at full width, with the run
 * legend (and a picker to add or drop runs) beside them.
 */
export function ProjectChartsPage() {
  const { workspace = '', project = '' } = useParams();
  const [fromUrl, setSelected] = useUrlList('sel');
  // A toggled checkbox shows its new state at once: the URL catches up in a navigation, and a
  // controlled checkbox would flip back until then.
  const [optimistic, setOptimistic] = useState<string[] | null>(null);
  const urlValue = fromUrl.join(',');
  // biome-ignore lint/correctness/useExhaustiveDependencies: the URL's value is what clears it.
  useEffect(() => setOptimistic(null), [urlValue]);
  const selected = useMemo(() => optimistic ?? (urlValue ? urlValue.split(',') : []), [optimistic, urlValue]);
  const names = useExperimentNames(workspace, project, selected);
  const runs = useMemo<ChartRun[]>(
    () => selected.map((key) => ({ key, name: names.data?.get(key) ?? key.slice(0, 8) })),
    [selected, names.data],
  );
  const scope = useMemo(() => ({ project: { workspace, project } }), [workspace, project]);
  const toggle = (key: string) => {
    const next = selected.includes(key) ? selected.filter((k) => k !== key) : [...selected, key];
    setOptimistic(next);
    setSelected(next, { push: true });
  };

  return (
    <div className="charts-page">
      <aside className="charts-runs" aria-label="Runs">
        <nav className="charts-crumbs muted" aria-label="Breadcrumb">
          <Link to={`/${enc(workspace)}/${enc(project)}`}>{project}</Link> / Charts
        </nav>
        <h1>Charts</h1>
        {names.isError && <InlineError error={names.error} onRetry={() => void names.refetch()} />}
        <RunPicker workspace={workspace} project={project} runs={runs} toggle={toggle} />
      </aside>
      <div className="charts-main">
        <PanelBoundary>
          <ChartPanel runs={runs} metrics={scope} />
        </PanelBoundary>
      </div>
    </div>
  );
}

/**
 * The run list is the legend: each run with its chart color, checked when drawn. Rows never move
 * when one is toggled (the list is the project's newest runs, filtered by name); selected runs
 * outside that list are listed after it.
 */
function RunPicker({
  workspace,
  project,
  runs,
  toggle,
}: {
  workspace: string;
  project: string;
  runs: ChartRun[];
  toggle(key: string): void;
}) {
  const [search, setSearch] = useState('');
  const choices = useExperimentChoices(workspace, project, search.trim());
  const chosen = new Set(runs.map((run) => run.key));
  const listed = new Set(choices.data?.items.map((row) => row.key));
  const others = runs.filter((run) => !listed.has(run.key));
  const open = (key: string) => `/${enc(workspace)}/${enc(project)}/${enc(key)}`;
  return (
    <div className="charts-picker">
      <h2 className="charts-runs-title">Runs · {runs.length} selected</h2>
      <input
        className="input"
        type="search"
        placeholder="Filter by name"
        aria-label="Filter runs by name"
        value={search}
        onChange={(e) => setSearch(e.target.value)}
      />
      {choices.isError ? (
        <InlineError error={choices.error} onRetry={() => void choices.refetch()} />
      ) : (
        <ul className="charts-choices" aria-busy={choices.isFetching}>
          {choices.data?.items.map((row) => {
            const name = row.name ?? row.key.slice(0, 8);
            return (
              <li key={row.key}>
                <label>
                  <input type="checkbox" checked={chosen.has(row.key)} onChange={() => toggle(row.key)} />
                  <span className="chart-swatch" style={{ background: runColor(row.key) }} />
                  <span className="charts-choice-name">{name}</span>
                  {row.values.status === 'RUNNING' && (
                    <span className="charts-running" role="img" aria-label="running" title="running">
                      ●
                    </span>
                  )}
                </label>
                <Link className="charts-open" to={open(row.key)} aria-label={`Open ${name}`} title={`Open ${name}`}>
                  ↗
                </Link>
              </li>
            );
          })}
        </ul>
      )}
      {choices.data && choices.data.total !== null && choices.data.total > choices.data.items.length && (
        <p className="muted charts-choices-more">
          The newest {choices.data.items.length} of {choices.data.total.toLocaleString('en-US')}: filter by name to find
          others.
        </p>
      )}
      {others.length > 0 && (
        <>
          <h2 className="charts-runs-title">Also selected</h2>
          <ul className="charts-legend">
            {others.map((run) => (
              <li key={run.key}>
                <span className="chart-swatch" style={{ background: runColor(run.key) }} />
                <Link to={open(run.key)} title={run.key}>
                  {run.name}
                </Link>
                <button
                  type="button"
                  className="charts-legend-remove"
                  aria-label={`Remove ${run.name} from the charts`}
                  onClick={() => toggle(run.key)}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

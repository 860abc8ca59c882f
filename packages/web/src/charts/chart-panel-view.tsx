import { useQueryClient } from '@tanstack/react-query';
import { memo, useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { useProjectMetricNames } from '../api/keys.hooks';
import { liveLabel } from '../api/live';
import { metricListKey, useMetricLists } from '../api/metrics.hooks';
import { InlineError, PanelBoundary } from '../app/panel';
import { useShortcut } from '../app/shortcuts';
import { formatValue, formatX, X_AXES, xAxisLabel } from './chart-format';
import type { ChartPanelProps } from './chart-panel';
import { type ChartSettings, type SettingsPatch, useChartSettings, zoomParam } from './chart-settings';
import { useLiveSeries } from './live-series';
import { type DrawnState, MetricChart, PLOT_HEIGHT } from './metric-chart';
import { runColor } from './run-colors';
import { filterMetricNames, groupSections, metricMatcher } from './sections';
import './charts.css';

/**
 * Up to this many runs, a project panel takes its metric names from the runs' own metric lists
 * (a request per run) rather than from the project's catalogue, which also names metrics none of
 * the chosen runs have: those charts would only say "no points".
 */
const RUN_LISTS_UP_TO = 20;

/** The metric names of the panel, from the runs themselves or from the project's catalogue. */
function useMetricNames(props: ChartPanelProps) {
  const project = 'project' in props.metrics ? props.metrics.project : null;
  const keys = useMemo(() => props.runs.map((run) => run.key), [props.runs]);
  const fromRuns = project === null || keys.length <= RUN_LISTS_UP_TO;
  const catalogue = useProjectMetricNames(fromRuns ? null : project, props.prefix);
  const lists = useMetricLists(keys, fromRuns);
  const names = useMemo(() => {
    const all = fromRuns ? lists.lists.flatMap((list) => list.map((s) => s.name)) : (catalogue.data ?? []);
    return filterMetricNames(all, { prefix: props.prefix, exclude: props.exclude });
  }, [fromRuns, catalogue.data, lists.lists, props.prefix, props.exclude]);
  if (!fromRuns) {
    return {
      names,
      isPending: catalogue.isPending,
      error: catalogue.error,
      refetch: () => void catalogue.refetch(),
    };
  }
  return { names, isPending: lists.isPending, error: lists.error, refetch: () => void lists.refetch() };
}

/**
 * Charts of the given runs: one chart per metric, all runs overlaid, in sections by name prefix,
 * with a shared x axis choice, zoom, smoothing, log scale and outlier clipping kept in the URL.
 * Only charts near the viewport read and draw; the rest are placeholders of the same height.
 */
export default function ChartPanelView(props: ChartPanelProps) {
  const { runs, live = true } = props;
  const [settings, update] = useChartSettings();
  const syncKey = useId();
  const queryClient = useQueryClient();
  const { names, isPending, error, refetch } = useMetricNames(props);
  const known = useRef(new Set<string>());
  known.current = new Set(names);
  const project = 'project' in props.metrics ? props.metrics.project : null;
  const runKeys = useMemo(() => runs.map((run) => run.key), [runs]);

  const onNewMetric = useCallback(
    (experiment: string, name: string) => {
      if (known.current.has(name)) return;
      known.current.add(name);
      // Whichever source names the panel's metrics learns of the new one.
      if (project)
        void queryClient.invalidateQueries({ queryKey: ['keys', project.workspace, project.project, 'metric'] });
      void queryClient.invalidateQueries({ queryKey: metricListKey(experiment) });
    },
    [project, queryClient],
  );
  const liveStatus = useLiveSeries({ runs: runKeys, project, enabled: live && runs.length > 0, onNewMetric });

  const matcher = useMemo(() => metricMatcher(settings.search), [settings.search]);
  const shown = useMemo(() => names.filter(matcher), [names, matcher]);
  const sections = useMemo(() => groupSections(shown), [shown]);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  useShortcut('l', 'Charts: log scale on or off', () => update({ log: settings.log ? null : '1' }, { push: true }));
  useShortcut('o', 'Charts: ignore outliers on or off', () =>
    update({ outliers: settings.outliers ? null : '1' }, { push: true }),
  );
  useShortcut('s', 'Charts: smoothing off → 0.6 → 0.9', () =>
    update({ smooth: settings.smooth === 0 ? '0.6' : settings.smooth < 0.9 ? '0.9' : null }, { push: true }),
  );
  useShortcut('0', 'Charts: reset zoom', () => update({ zoom: null }, { push: true }));
  const onZoom = useCallback(
    (range: { from: number; to: number } | null) => update({ zoom: zoomParam(range) }, { push: true }),
    [update],
  );

  return (
    <section className="chart-panel" aria-label="Charts">
      <ChartToolbar
        settings={settings}
        update={update}
        total={names.length}
        shown={shown.length}
        liveStatus={liveStatus}
      />
      {runs.length === 0 ? (
        <p className="muted chart-panel-empty">Select runs to chart them.</p>
      ) : error ? (
        <InlineError error={error} onRetry={refetch} />
      ) : isPending ? (
        <p className="muted chart-panel-empty" role="status">
          Loading metrics…
        </p>
      ) : names.length === 0 ? (
        <p className="muted chart-panel-empty">No metrics logged{props.prefix ? ` under ${props.prefix}` : ''} yet.</p>
      ) : shown.length === 0 ? (
        <p className="muted chart-panel-empty">No metric matches “{settings.search}”.</p>
      ) : (
        sections.map((section) => {
          const isCollapsed = collapsed.has(section.name);
          const bodyId = `${syncKey}-${section.name}`;
          return (
            <div className="chart-section" key={section.name}>
              <h3 className="chart-section-header">
                <button
                  type="button"
                  className="chart-section-toggle"
                  aria-expanded={!isCollapsed}
                  aria-controls={bodyId}
                  onClick={() =>
                    setCollapsed((current) => {
                      const next = new Set(current);
                      if (next.has(section.name)) next.delete(section.name);
                      else next.add(section.name);
                      return next;
                    })
                  }
                >
                  <span aria-hidden="true" className="chart-section-caret">
                    {isCollapsed ? '▸' : '▾'}
                  </span>
                  {section.name}
                  <span className="badge">{section.metrics.length}</span>
                </button>
              </h3>
              {!isCollapsed && (
                <div className="chart-grid" id={bodyId}>
                  {section.metrics.map((metric) => (
                    <ChartCard
                      key={metric}
                      metric={metric}
                      runs={runs}
                      settings={settings}
                      syncKey={syncKey}
                      onZoom={onZoom}
                    />
                  ))}
                </div>
              )}
            </div>
          );
        })
      )}
    </section>
  );
}

function ChartToolbar({
  settings,
  update,
  total,
  shown,
  liveStatus,
}: {
  settings: ChartSettings;
  update(patch: SettingsPatch, options?: { push?: boolean }): void;
  total: number;
  shown: number;
  liveStatus: ReturnType<typeof useLiveSeries>;
}) {
  const [search, setSearch] = useState(settings.search);
  useEffect(() => setSearch(settings.search), [settings.search]);
  const smoothing = Math.round(settings.smooth * 100);
  return (
    <div className="chart-toolbar" role="toolbar" aria-label="Chart settings">
      <input
        className="input chart-search"
        type="search"
        placeholder="Search metrics (regex)"
        aria-label="Search metrics"
        value={search}
        onChange={(e) => {
          setSearch(e.target.value);
          update({ mq: e.target.value });
        }}
      />
      <span className="muted chart-count">{shown === total ? `${total} charts` : `${shown} of ${total} charts`}</span>
      <label className="chart-control">
        X axis
        <select className="input" value={settings.x} onChange={(e) => update({ x: e.target.value }, { push: true })}>
          {X_AXES.map((axis) => (
            <option key={axis.value} value={axis.value}>
              {axis.label}
            </option>
          ))}
        </select>
      </label>
      <label className="chart-control">
        <input
          type="checkbox"
          checked={settings.log}
          onChange={(e) => update({ log: e.target.checked ? '1' : null }, { push: true })}
        />
        Log y
      </label>
      <label className="chart-control">
        <input
          type="checkbox"
          checked={settings.outliers}
          onChange={(e) => update({ outliers: e.target.checked ? '1' : null }, { push: true })}
        />
        Ignore outliers
      </label>
      <label className="chart-control">
        Smoothing
        <input
          type="range"
          min={0}
          max={99}
          step={1}
          value={smoothing}
          aria-valuetext={smoothing === 0 ? 'off' : `${smoothing / 100}`}
          onChange={(e) => update({ smooth: e.target.value === '0' ? null : String(Number(e.target.value) / 100) })}
        />
        <span className="chart-smooth-value mono">{smoothing === 0 ? 'off' : (smoothing / 100).toFixed(2)}</span>
      </label>
      {settings.zoom && (
        <button type="button" className="btn btn-small" onClick={() => update({ zoom: null }, { push: true })}>
          Reset zoom
          <span className="muted mono">
            {formatX(settings.x, settings.zoom.from)} – {formatX(settings.x, settings.zoom.to)}
          </span>
        </button>
      )}
      {liveStatus && (
        <span className={`badge ${liveStatus === 'live' ? 'badge-running' : ''}`}>{liveLabel(liveStatus)}</span>
      )}
    </div>
  );
}

/**
 * A chart's card: always there with its fixed height (the page does not jump), drawing only
 * while in or near the viewport.
 */
const ChartCard = memo(function ChartCard({
  metric,
  runs,
  settings,
  syncKey,
  onZoom,
}: {
  metric: string;
  runs: ChartPanelProps['runs'];
  settings: ChartSettings;
  syncKey: string;
  onZoom(range: { from: number; to: number } | null): void;
}) {
  const card = useRef<HTMLDivElement>(null);
  const [near, setNear] = useState(false);
  const [drawn, setDrawn] = useState<DrawnState | null>(null);
  const [asTable, setAsTable] = useState(false);
  useEffect(() => {
    const element = card.current;
    if (!element) return;
    const observer = new IntersectionObserver((entries) => setNear(entries.some((entry) => entry.isIntersecting)), {
      rootMargin: '300px 0px',
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const names = useMemo(() => new Map(runs.map((run) => [run.key, run.name])), [runs]);
  const summaryId = useId();
  const downsampled = drawn && drawn.exact === false;

  return (
    <div
      ref={card}
      className="chart-card panel"
      data-testid={`chart-${metric}`}
      data-visible={near}
      data-exact={drawn?.exact == null ? undefined : String(drawn.exact)}
      data-points={drawn ? drawn.points : undefined}
      data-last-x={drawn?.lastX ?? undefined}
    >
      <div className="chart-card-header">
        <span className="chart-title" title={metric}>
          {metric}
        </span>
        {downsampled && (
          <span
            className="badge badge-warn"
            data-testid="downsampled"
            title="Each drawn point stands for a bucket of points: the line is the bucket's last value, the band its min and max. Zoom in to see every point."
          >
            downsampled · ≤{drawn.maxPerCell.toLocaleString('en-US')} pts/bucket
          </span>
        )}
        {drawn && drawn.clipped > 0 && (
          <span className="badge" title="Values outside the 1st–99th percentile are outside the y range">
            {drawn.clipped.toLocaleString('en-US')} outliers clipped
          </span>
        )}
        {drawn?.loading && (
          <span className="muted chart-loading" role="status">
            loading…
          </span>
        )}
        <button
          type="button"
          className="btn btn-small chart-table-toggle"
          aria-pressed={asTable}
          onClick={() => setAsTable((v) => !v)}
        >
          {asTable ? 'Hide table' : 'Table'}
        </button>
      </div>
      <div
        className="chart-card-body"
        aria-describedby={summaryId}
        role="img"
        aria-label={`${metric}, ${runs.length} runs`}
      >
        {near ? (
          <PanelBoundary>
            <MetricChart
              metric={metric}
              runs={runs}
              settings={settings}
              syncKey={syncKey}
              onZoom={onZoom}
              onState={setDrawn}
            />
          </PanelBoundary>
        ) : (
          <div className="chart-placeholder" style={{ height: PLOT_HEIGHT }} />
        )}
      </div>
      <SummaryTable
        id={summaryId}
        visible={asTable}
        metric={metric}
        drawn={drawn}
        names={names}
        xLabel={xAxisLabel(settings.x)}
      />
    </div>
  );
});

/**
 * What the chart shows, per run: lowest, highest and last value drawn. Screen readers get it
 * always; sighted users by the "Table" toggle.
 */
function SummaryTable({
  id,
  visible,
  metric,
  drawn,
  names,
  xLabel,
}: {
  id: string;
  visible: boolean;
  metric: string;
  drawn: DrawnState | null;
  names: Map<string, string>;
  xLabel: string;
}) {
  return (
    <div id={id} className={visible ? 'chart-summary' : 'visually-hidden'}>
      {drawn && drawn.summaries.length > 0 ? (
        <table className="simple">
          <caption className="visually-hidden">
            {metric} per run{drawn.lastX !== null ? `, up to ${xLabel.toLowerCase()} ${drawn.lastX}` : ''}
            {drawn.exact === false ? ' (downsampled)' : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Min</th>
              <th scope="col">Max</th>
              <th scope="col">Last</th>
              <th scope="col">Points</th>
            </tr>
          </thead>
          <tbody>
            {drawn.summaries.map((s) => (
              <tr key={s.experiment}>
                <td>
                  <span className="chart-swatch" style={{ background: runColor(s.experiment) }} />
                  {names.get(s.experiment) ?? s.experiment}
                </td>
                <td className="mono">{formatValue(s.min)}</td>
                <td className="mono">{formatValue(s.max)}</td>
                <td className="mono">{formatValue(s.last)}</td>
                <td className="mono">{s.points.toLocaleString('en-US')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">{drawn ? 'No points.' : 'Not drawn yet (scroll to it).'}</p>
      )}
    </div>
  );
}

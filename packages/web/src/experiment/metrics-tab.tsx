import type { SeriesSummary } from '@cairn/sdk';
import { useMetricSummaries } from '../api/experiment.hooks';
import { QueryView } from '../app/panel';
import { useUrlParam } from '../app/url-state';
import type { TabProps } from './experiment.page';
import { formatMetric } from './format';

type SummaryPoint = SeriesSummary['last'];

function Point({ point }: { point: SummaryPoint }) {
  return (
    <>
      <span className="mono">{formatMetric(point.value)}</span>
      {point.step !== null && <span className="muted metric-step"> @ step {point.step}</span>}
    </>
  );
}

/** Every metric's summary: last, min and max with the steps they were logged at, and the count. */
export function MetricsTab({ experimentKey }: TabProps) {
  const query = useMetricSummaries(experimentKey);
  const [search, setSearch] = useUrlParam('q');
  return (
    <div>
      <div className="toolbar">
        <input
          className="input"
          type="search"
          placeholder="Search metrics"
          aria-label="Search metrics"
          data-shortcut-focus
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
      </div>
      <QueryView query={query}>
        {(series) => {
          const needle = search.toLowerCase();
          const shown = series.filter((s) => s.name.toLowerCase().includes(needle));
          if (series.length === 0) return <p className="muted">No metrics were logged.</p>;
          if (shown.length === 0) return <p className="muted">No metrics match.</p>;
          return (
            <table className="simple" aria-label="Metric summaries">
              <thead>
                <tr>
                  <th>Metric</th>
                  <th>Last</th>
                  <th>Min</th>
                  <th>Max</th>
                  <th className="num">Count</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((s) => (
                  <tr key={s.name}>
                    <td>{s.name}</td>
                    <td>
                      <Point point={s.last} />
                    </td>
                    <td>
                      <Point point={s.min} />
                    </td>
                    <td>
                      <Point point={s.max} />
                    </td>
                    <td className="num">{s.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </QueryView>
    </div>
  );
}

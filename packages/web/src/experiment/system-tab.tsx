import { type ReactNode, useState } from 'react';
import { useJsonDocument } from '../api/experiment.hooks';
import { PanelBoundary, QueryView } from '../app/panel';
import { ChartPanel } from '../charts/chart-panel';
import type { TabProps } from './experiment.page';
import { formatBytes, formatValue } from './format';

interface Gpu {
  gpuIndex?: number | null;
  name?: string | null;
  uuid?: string | null;
  totalMemory?: number | null;
  powerLimit?: number | null;
}

/** The system details as comet_ml and the SDK store them (every field optional). */
type SystemDetails = Record<string, unknown> & {
  gpuStaticInfoList?: Gpu[];
  logAdditionalSystemInfoList?: { key: string; value: string | null }[];
  env?: Record<string, string>;
};

/** Known fields, in the order shown, with their labels. */
const KNOWN: [string, string][] = [
  ['hostname', 'Hostname'],
  ['user', 'User'],
  ['os', 'OS'],
  ['osType', 'OS type'],
  ['osRelease', 'OS release'],
  ['machine', 'Machine'],
  ['processor', 'Processor'],
  ['pythonVersion', 'Python'],
  ['pythonVersionVerbose', 'Python (full)'],
  ['executable', 'Executable'],
  ['command', 'Command'],
  ['pid', 'PID'],
  ['ip', 'IP'],
  ['networkInterfaceIps', 'Network IPs'],
  ['totalRam', 'Total RAM'],
  ['maxTotalMemory', 'Max memory'],
];
const SHOWN_APART = new Set([
  'gpuStaticInfoList',
  'logAdditionalSystemInfoList',
  'env',
  'osPackages',
  'installedPackages',
]);

function show(field: string, value: unknown): ReactNode {
  if ((field === 'totalRam' || field === 'maxTotalMemory') && typeof value === 'number') return formatBytes(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return field === 'command' ? <code>{value.join(' ')}</code> : value.join(', ');
  }
  return formatValue(value);
}

/** System details, cloud details, installed packages and the system metric charts. */
export function SystemTab({ experimentKey, experimentName }: TabProps) {
  return (
    <div className="system-tab">
      <PanelBoundary>
        <SystemDetailsPanel experimentKey={experimentKey} />
      </PanelBoundary>
      <PanelBoundary>
        <CloudDetailsPanel experimentKey={experimentKey} />
      </PanelBoundary>
      <PanelBoundary>
        <PackagesPanel experimentKey={experimentKey} />
      </PanelBoundary>
      <section className="panel" aria-label="System metrics">
        <div className="panel-header">System metrics</div>
        <div className="panel-body">
          <ChartPanel
            runs={[{ key: experimentKey, name: experimentName }]}
            metrics={{ fromRuns: true }}
            prefix="sys."
          />
        </div>
      </section>
    </div>
  );
}

function SystemDetailsPanel({ experimentKey }: { experimentKey: string }) {
  const query = useJsonDocument<SystemDetails>(experimentKey, 'system-details');
  return (
    <section className="panel" aria-label="System details">
      <div className="panel-header">System details</div>
      <div className="panel-body">
        <QueryView query={query}>
          {(details) => {
            if (!details) return <p className="muted">No system details were logged.</p>;
            const known = KNOWN.filter(([field]) => details[field] !== undefined && details[field] !== null);
            const knownFields = new Set(KNOWN.map(([field]) => field));
            const rest = Object.entries(details).filter(
              ([field, value]) => !knownFields.has(field) && !SHOWN_APART.has(field) && value !== null,
            );
            const gpus = details.gpuStaticInfoList ?? [];
            const additional = details.logAdditionalSystemInfoList ?? [];
            return (
              <>
                <dl className="kv-grid">
                  {known.map(([field, label]) => (
                    <div key={field}>
                      <dt>{label}</dt>
                      <dd>{show(field, details[field])}</dd>
                    </div>
                  ))}
                  {rest.map(([field, value]) => (
                    <div key={field}>
                      <dt>{field}</dt>
                      <dd>{show(field, value)}</dd>
                    </div>
                  ))}
                </dl>
                {gpus.length > 0 && (
                  <>
                    <h3 className="subhead">GPUs</h3>
                    <table className="simple" aria-label="GPUs">
                      <thead>
                        <tr>
                          <th>#</th>
                          <th>Name</th>
                          <th>Memory</th>
                          <th>Power limit</th>
                          <th>UUID</th>
                        </tr>
                      </thead>
                      <tbody>
                        {gpus.map((gpu, index) => (
                          <tr key={gpu.uuid ?? index}>
                            <td>{gpu.gpuIndex ?? index}</td>
                            <td>{gpu.name ?? '—'}</td>
                            <td>{formatBytes(gpu.totalMemory)}</td>
                            <td>{gpu.powerLimit ? `${Math.round(gpu.powerLimit / 1000)} W` : '—'}</td>
                            <td className="mono">{gpu.uuid ?? '—'}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </>
                )}
                {additional.length > 0 && (
                  <>
                    <h3 className="subhead">Additional information</h3>
                    <KeyValueTable
                      label="Additional system information"
                      entries={additional.map((e) => [e.key, e.value])}
                    />
                  </>
                )}
                {details.env && Object.keys(details.env).length > 0 && (
                  <details className="env-details">
                    <summary>Environment variables ({Object.keys(details.env).length})</summary>
                    <KeyValueTable label="Environment variables" entries={Object.entries(details.env)} />
                  </details>
                )}
              </>
            );
          }}
        </QueryView>
      </div>
    </section>
  );
}

function KeyValueTable({ label, entries }: { label: string; entries: [string, unknown][] }) {
  return (
    <table className="simple" aria-label={label}>
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td className="mono">{formatValue(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CloudDetailsPanel({ experimentKey }: { experimentKey: string }) {
  const query = useJsonDocument<Record<string, unknown>>(experimentKey, 'cloud-details');
  // Nothing to say when no cloud details were logged: most runs have none.
  if (query.data === null) return null;
  return (
    <section className="panel" aria-label="Cloud details">
      <div className="panel-header">Cloud details</div>
      <div className="panel-body">
        <QueryView query={query}>
          {(details) => details && <KeyValueTable label="Cloud details" entries={Object.entries(details)} />}
        </QueryView>
      </div>
    </section>
  );
}

function PackagesPanel({ experimentKey }: { experimentKey: string }) {
  const query = useJsonDocument<{ name: string; version: string | null }[]>(experimentKey, 'dependencies');
  const [search, setSearch] = useState('');
  return (
    <section className="panel" aria-label="Installed packages">
      <div className="panel-header">
        Installed packages
        {query.data && <span className="muted">({query.data.length})</span>}
        {query.data && query.data.length > 0 && (
          <input
            className="input input-small panel-header-end"
            type="search"
            placeholder="Search packages"
            aria-label="Search packages"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
          />
        )}
      </div>
      <div className="panel-body packages-body">
        <QueryView query={query}>
          {(packages) => {
            if (!packages || packages.length === 0) return <p className="muted">No packages were logged.</p>;
            const needle = search.toLowerCase();
            const shown = packages
              .filter((p) => p.name.toLowerCase().includes(needle))
              .sort((a, b) => a.name.localeCompare(b.name));
            return (
              <table className="simple" aria-label="Packages">
                <thead>
                  <tr>
                    <th>Package</th>
                    <th>Version</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((p) => (
                    <tr key={p.name}>
                      <td>{p.name}</td>
                      <td className="mono">{p.version ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            );
          }}
        </QueryView>
      </div>
    </section>
  );
}

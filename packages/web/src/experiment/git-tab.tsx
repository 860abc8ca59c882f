import { useMemo } from 'react';
import { useGitPatch, useJsonDocument } from '../api/experiment.hooks';
import { PanelBoundary, QueryView } from '../app/panel';
import { classifyDiff } from './diff';
import type { TabProps } from './experiment.page';
import { formatValue } from './format';
import { VirtualLines } from './virtual-lines';

const GIT_FIELDS: [string, string][] = [
  ['branch', 'Branch'],
  ['parent', 'Commit'],
  ['origin', 'Origin'],
  ['user', 'Author'],
  ['root', 'Root commit'],
  ['repo_name', 'Repository'],
  ['status', 'Status'],
];

/** Git metadata and the uncommitted changes (the patch) of the run. */
export function GitTab({ experimentKey }: TabProps) {
  return (
    <div className="git-tab">
      <PanelBoundary>
        <GitMetadata experimentKey={experimentKey} />
      </PanelBoundary>
      <PanelBoundary>
        <GitPatch experimentKey={experimentKey} />
      </PanelBoundary>
    </div>
  );
}

function GitMetadata({ experimentKey }: { experimentKey: string }) {
  const query = useJsonDocument<Record<string, unknown>>(experimentKey, 'git-metadata');
  return (
    <section className="panel" aria-label="Git metadata">
      <div className="panel-header">Git</div>
      <div className="panel-body">
        <QueryView query={query}>
          {(git) => {
            if (!git) return <p className="muted">No git metadata was logged.</p>;
            const known = new Set(GIT_FIELDS.map(([f]) => f));
            const entries: [string, unknown][] = [
              ...GIT_FIELDS.filter(([f]) => git[f] !== undefined && git[f] !== null).map(
                ([f, label]) =>
                  [label, f === 'branch' ? String(git[f]).replace(/^refs\/heads\//, '') : git[f]] as [string, unknown],
              ),
              ...Object.entries(git).filter(([f, v]) => !known.has(f) && v !== null),
            ];
            return (
              <dl className="kv-grid">
                {entries.map(([label, value]) => (
                  <div key={label}>
                    <dt>{label}</dt>
                    <dd className="mono">{formatValue(value)}</dd>
                  </div>
                ))}
              </dl>
            );
          }}
        </QueryView>
      </div>
    </section>
  );
}

function GitPatch({ experimentKey }: { experimentKey: string }) {
  const query = useGitPatch(experimentKey);
  const diff = useMemo(() => (query.data ? classifyDiff(query.data) : []), [query.data]);
  const stats = useMemo(() => {
    let added = 0;
    let removed = 0;
    let files = 0;
    for (const line of diff) {
      if (line.kind === 'add') added++;
      else if (line.kind === 'del') removed++;
      else if (line.kind === 'file' && line.text.startsWith('diff --git ')) files++;
    }
    return { added, removed, files };
  }, [diff]);
  return (
    <section className="panel" aria-label="Git patch">
      <div className="panel-header">
        Uncommitted changes
        {diff.length > 0 && (
          <span className="muted diff-stats">
            {stats.files} {stats.files === 1 ? 'file' : 'files'}, <span className="diff-stat-add">+{stats.added}</span>{' '}
            <span className="diff-stat-del">−{stats.removed}</span>
          </span>
        )}
        <a
          className="btn btn-small panel-header-end"
          href={`/api/cairn/v1/experiments/${encodeURIComponent(experimentKey)}/git/patch`}
          download={`${experimentKey}.patch`}
        >
          Download
        </a>
      </div>
      <QueryView query={query}>
        {(patch) => {
          if (patch === null) return <p className="muted panel-body">No git patch was logged.</p>;
          if (patch.startsWith('PK')) {
            return <p className="muted panel-body">The patch was uploaded zipped: download it to read it.</p>;
          }
          return (
            <VirtualLines
              label="Git patch"
              className="diff-lines"
              count={diff.length}
              renderLine={(index) => {
                const line = diff[index];
                return line ? (
                  <div className={`diff-line diff-${line.kind}`} data-kind={line.kind}>
                    {line.text || ' '}
                  </div>
                ) : null;
              }}
            />
          );
        }}
      </QueryView>
    </section>
  );
}

import type { CairnEvent, Experiment } from '@cairn/sdk';
import { useQueryClient } from '@tanstack/react-query';
import { type ComponentType, lazy, type ReactNode, Suspense, useCallback, useId, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useExperiment, useJsonDocument, useTagMutation, useUpdateExperiment } from '../api/experiment.hooks';
import { type LiveStatus, liveLabel, useLiveEvents } from '../api/live';
import { InlineError, PanelBoundary, QueryView } from '../app/panel';
import { RemoveButton } from '../app/remove-button';
import { useShortcut } from '../app/shortcuts';
import { ChartPanel } from '../charts/chart-panel';
import { formatDuration, formatTime } from './format';
import './experiment.css';

/** What a tab gets: the experiment's key (every tab reads its own data). */
export interface TabProps {
  experimentKey: string;
  experimentName: string;
}

// Tabs below the fold of the bundle: each loads when first opened.
const ValuesTab = lazy(() => import('./values-tab').then((m) => ({ default: m.ValuesTab })));
const MetricsTab = lazy(() => import('./metrics-tab').then((m) => ({ default: m.MetricsTab })));
const SystemTab = lazy(() => import('./system-tab').then((m) => ({ default: m.SystemTab })));
const OutputTab = lazy(() => import('./output-tab').then((m) => ({ default: m.OutputTab })));
const CodeTab = lazy(() => import('./code-tab').then((m) => ({ default: m.CodeTab })));
const GitTab = lazy(() => import('./git-tab').then((m) => ({ default: m.GitTab })));
const HtmlTab = lazy(() => import('./html-tab').then((m) => ({ default: m.HtmlTab })));
const AssetsTab = lazy(() => import('./assets-tab').then((m) => ({ default: m.AssetsTab })));
const ModelsTab = lazy(() => import('./models-tab').then((m) => ({ default: m.ModelsTab })));
const TablesTab = lazy(() => import('./tables-tab').then((m) => ({ default: m.TablesTab })));

function ChartsTab({ experimentKey, experimentName }: TabProps) {
  return (
    <ChartPanel runs={[{ key: experimentKey, name: experimentName }]} metrics={{ fromRuns: true }} exclude="sys." />
  );
}

const TABS: { id: string; label: string; Component: ComponentType<TabProps> }[] = [
  { id: 'charts', label: 'Charts', Component: ChartsTab },
  { id: 'parameters', label: 'Parameters', Component: (props) => <ValuesTab {...props} kind="params" /> },
  { id: 'metrics', label: 'Metrics', Component: MetricsTab },
  { id: 'others', label: 'Others', Component: (props) => <ValuesTab {...props} kind="others" /> },
  { id: 'system', label: 'System', Component: SystemTab },
  { id: 'output', label: 'Output', Component: OutputTab },
  { id: 'code', label: 'Code', Component: CodeTab },
  { id: 'git', label: 'Git', Component: GitTab },
  { id: 'html', label: 'HTML', Component: HtmlTab },
  { id: 'assets', label: 'Assets', Component: AssetsTab },
  { id: 'models', label: 'Models', Component: ModelsTab },
  { id: 'tables', label: 'Tables', Component: TablesTab },
];

export function ExperimentPage() {
  const params = useParams();
  const workspace = params.workspace ?? '';
  const project = params.project ?? '';
  const key = params.experiment ?? '';
  const query = useExperiment(key);
  const live = useExperimentLiveEvents(key);

  return (
    <div className="page experiment-page">
      <QueryView query={query}>
        {(experiment) => (
          <>
            <ExperimentHeader experiment={experiment} workspace={workspace} project={project} live={live} />
            <ExperimentTabs experiment={experiment} workspace={workspace} project={project} tab={params.tab} />
          </>
        )}
      </QueryView>
    </div>
  );
}

/** Keeps the page's cached reads in step with the experiment's live events. */
function useExperimentLiveEvents(key: string) {
  const client = useQueryClient();
  return useLiveEvents({ experiment: key }, (event: CairnEvent) => {
    switch (event.event) {
      case 'experiment':
        client.setQueryData(['experiments', key], event.data.experiment);
        break;
      case 'heartbeat':
        client.setQueryData<Experiment>(['experiments', key], (current) =>
          current ? { ...current, lastHeartbeat: event.data.lastHeartbeat } : current,
        );
        break;
      case 'values':
        void client.invalidateQueries({ queryKey: [event.data.kind === 'param' ? 'params' : 'others', key] });
        break;
      case 'asset':
        void client.invalidateQueries({ queryKey: ['assets', key] });
        if (event.data.asset.model) void client.invalidateQueries({ queryKey: ['models', key] });
        break;
      case 'points':
        void client.invalidateQueries({ queryKey: ['metrics', key] });
        break;
      case 'reset':
        void client.invalidateQueries({
          predicate: (q) => Array.isArray(q.queryKey) && q.queryKey[1] === key,
        });
        break;
    }
  });
}

function statusBadge(experiment: Experiment): { label: string; className: string } {
  if (experiment.running) return { label: 'running', className: 'badge badge-running' };
  if (experiment.status === 'FAILED') return { label: 'failed', className: 'badge badge-failed' };
  return { label: 'ended', className: 'badge badge-ok' };
}

function ExperimentHeader({
  experiment,
  workspace,
  project,
  live,
}: {
  experiment: Experiment;
  workspace: string;
  project: string;
  live: LiveStatus;
}) {
  const badge = statusBadge(experiment);
  const git = useJsonDocument<Record<string, unknown>>(experiment.key, 'git-metadata');
  const branch = typeof git.data?.branch === 'string' ? git.data.branch.replace(/^refs\/heads\//, '') : null;
  const commit = typeof git.data?.parent === 'string' ? git.data.parent : null;
  return (
    <header className="experiment-header">
      <div className="experiment-title-row">
        <Link
          className="experiment-project-link"
          to={`/${encodeURIComponent(workspace)}/${encodeURIComponent(project)}`}
          title="Back to the project"
        >
          {workspace} / {project}
        </Link>
      </div>
      <div className="experiment-title-row">
        <ExperimentName experiment={experiment} />
        <span className={badge.className} data-testid="experiment-status">
          {badge.label}
        </span>
        {experiment.running && <span className="muted experiment-live">{liveLabel(live)}</span>}
      </div>
      <dl className="experiment-facts">
        <Fact label="Key">
          <code>{experiment.key}</code>
        </Fact>
        <Fact label="Started">{formatTime(experiment.startTime)}</Fact>
        <Fact label="Ended">{experiment.running ? '—' : formatTime(experiment.endTime)}</Fact>
        <Fact label="Duration">{formatDuration(experiment.durationMillis)}</Fact>
        <Fact label="User">{experiment.createdBy ?? '—'}</Fact>
        {branch && <Fact label="Branch">{branch}</Fact>}
        {commit && (
          <Fact label="Commit">
            <code title={commit}>{commit.slice(0, 10)}</code>
          </Fact>
        )}
      </dl>
      <TagEditor experiment={experiment} />
    </header>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="experiment-fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function ExperimentName({ experiment }: { experiment: Experiment }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const update = useUpdateExperiment(experiment.key);
  const name = experiment.name ?? experiment.key;
  const save = () => {
    const next = draft.trim();
    if (!next || next === experiment.name) {
      setEditing(false);
      return;
    }
    update.mutate({ name: next }, { onSuccess: () => setEditing(false) });
  };
  if (!editing) {
    return (
      <div className="experiment-name">
        <h1>{name}</h1>
        <button
          type="button"
          className="btn btn-small experiment-edit"
          aria-label="Rename experiment"
          onClick={() => {
            setDraft(experiment.name ?? '');
            setEditing(true);
          }}
        >
          Rename
        </button>
      </div>
    );
  }
  return (
    <form
      className="experiment-name-form"
      onSubmit={(event) => {
        event.preventDefault();
        save();
      }}
    >
      <input
        className="input"
        aria-label="Experiment name"
        value={draft}
        // biome-ignore lint/a11y/noAutofocus: the field appears because the user asked to rename.
        autoFocus
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Escape') setEditing(false);
        }}
      />
      <button type="submit" className="btn btn-primary btn-small" disabled={update.isPending}>
        Save
      </button>
      <button type="button" className="btn btn-small" onClick={() => setEditing(false)}>
        Cancel
      </button>
      {update.isError && <InlineError error={update.error} />}
    </form>
  );
}

function TagEditor({ experiment }: { experiment: Experiment }) {
  const mutation = useTagMutation(experiment.key);
  const [draft, setDraft] = useState('');
  const inputId = useId();
  return (
    <div className="experiment-tags">
      <ul aria-label="Tags" className="tag-list">
        {experiment.tags.map((tag) => (
          <li key={tag} className="tag">
            {tag}
            <RemoveButton
              label={`Remove tag ${tag}`}
              disabled={mutation.isPending}
              onRemove={() => mutation.mutate({ tag, remove: true })}
            />
          </li>
        ))}
      </ul>
      <form
        className="tag-add"
        onSubmit={(event) => {
          event.preventDefault();
          const tag = draft.trim();
          if (tag) mutation.mutate({ tag }, { onSuccess: () => setDraft('') });
        }}
      >
        <label htmlFor={inputId} className="visually-hidden">
          New tag
        </label>
        <input
          id={inputId}
          className="input input-small"
          placeholder="Add tag"
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
        />
        <button type="submit" className="btn btn-small" disabled={!draft.trim() || mutation.isPending}>
          Add
        </button>
      </form>
      {mutation.isError && <InlineError error={mutation.error} />}
    </div>
  );
}

function ExperimentTabs({
  experiment,
  workspace,
  project,
  tab,
}: {
  experiment: Experiment;
  workspace: string;
  project: string;
  tab: string | undefined;
}) {
  const navigate = useNavigate();
  const current = TABS.find((t) => t.id === tab) ?? TABS[0];
  const base = `/${encodeURIComponent(workspace)}/${encodeURIComponent(project)}/${encodeURIComponent(experiment.key)}`;
  const tabRefs = useRef(new Map<string, HTMLAnchorElement>());
  const go = useCallback(
    (id: string, focus = false) => {
      navigate(`${base}/${id}`);
      if (focus) tabRefs.current.get(id)?.focus();
    },
    [navigate, base],
  );
  const ids = useId();
  if (!current) return null;
  const index = TABS.indexOf(current);
  return (
    <>
      {TABS.slice(0, 9).map((t, i) => (
        <TabShortcut key={t.id} keys={String(i + 1)} label={t.label} run={() => go(t.id)} />
      ))}
      <div
        role="tablist"
        aria-label="Experiment views"
        className="tabs"
        onKeyDown={(event) => {
          // Arrow keys move between tabs, as the ARIA tabs pattern has it.
          const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
          if (!step) return;
          event.preventDefault();
          const next = TABS[(index + step + TABS.length) % TABS.length];
          if (next) go(next.id, true);
        }}
      >
        {TABS.map((t) => (
          <Link
            key={t.id}
            ref={(node) => {
              if (node) tabRefs.current.set(t.id, node);
            }}
            role="tab"
            id={`${ids}-tab-${t.id}`}
            aria-selected={t === current}
            aria-controls={`${ids}-panel`}
            tabIndex={t === current ? 0 : -1}
            className="tab"
            to={`${base}/${t.id}`}
          >
            {t.label}
          </Link>
        ))}
      </div>
      <section role="tabpanel" id={`${ids}-panel`} aria-labelledby={`${ids}-tab-${current.id}`} className="tab-panel">
        <PanelBoundary key={current.id}>
          <Suspense
            fallback={
              <div className="muted" role="status">
                Loading…
              </div>
            }
          >
            <current.Component experimentKey={experiment.key} experimentName={experiment.name ?? experiment.key} />
          </Suspense>
        </PanelBoundary>
      </section>
    </>
  );
}

function TabShortcut({ keys, label, run }: { keys: string; label: string; run: () => void }) {
  useShortcut(keys, `Show the ${label} tab`, run);
  return null;
}

import type { RegistryModel, RegistryVersion } from '@cairn/sdk';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import {
  registryFileUrl,
  registryVersionZipUrl,
  useModelNotesMutation,
  useRegistryModel,
  useRegistryModels,
  useStageMutation,
} from '../api/registry.hooks';
import { DownloadLink } from '../app/file-table';
import { Modal, ModalActions } from '../app/modal';
import { PagedListFooter, PagedListView, pagedItems, SearchBox } from '../app/paged-list';
import { InlineError, PanelBoundary, QueryView } from '../app/panel';
import { RemoveButton } from '../app/remove-button';
import { useUrlParam } from '../app/url-state';
import { formatBytes, formatTime } from '../experiment/format';
import { ExperimentLink } from './registry-shared';
import './registry.css';

/** The workspace's registered models: name, latest version, its stages, last change. */
export function RegistryPage() {
  const workspace = useParams().workspace ?? '';
  const [search, setSearch] = useUrlParam('q');
  const query = useRegistryModels(workspace, search);
  const { items: models, total } = pagedItems(query.data);
  return (
    <div className="page registry-page">
      <div className="registry-title">
        <h1>Models</h1>
        <span className="muted">{workspace}</span>
        <SearchBox value={search} onChange={setSearch} label="Search models" className="registry-search" />
      </div>
      <PagedListView
        query={query}
        count={models.length}
        empty={
          search
            ? 'No models match.'
            : 'No models are registered in this workspace yet. Register one from an experiment (comet_ml: experiment.register_model).'
        }
      >
        <table className="simple" aria-label="Registered models">
          <thead>
            <tr>
              <th>Model</th>
              <th>Latest version</th>
              <th>Stages</th>
              <th className="num">Versions</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {models.map((model) => (
              <tr key={model.name}>
                <td>
                  <Link to={`/-/registry/${encodeURIComponent(workspace)}/${encodeURIComponent(model.name)}`}>
                    {model.name}
                  </Link>
                  {model.description && <div className="muted registry-description">{model.description}</div>}
                </td>
                <td className="mono">{model.latest?.version ?? '—'}</td>
                <td>
                  <Stages stages={model.latest?.stages ?? []} />
                </td>
                <td className="num">{model.versionCount}</td>
                <td>{formatTime(model.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <PagedListFooter shown={models.length} total={total} query={query} noun="models" />
      </PagedListView>
    </div>
  );
}

function Stages({ stages }: { stages: string[] }) {
  if (stages.length === 0) return <span className="muted">—</span>;
  return (
    <span className="stage-list">
      {stages.map((stage) => (
        <span key={stage} className={`badge stage stage-${stageTone(stage)}`}>
          {stage}
        </span>
      ))}
    </span>
  );
}

/** Well-known stages get a color; any other stage is neutral. */
function stageTone(stage: string): string {
  const name = stage.toLowerCase();
  if (name === 'production' || name === 'prod') return 'ok';
  if (name === 'staging') return 'running';
  if (name === 'archived' || name === 'deprecated') return 'muted';
  return 'other';
}

/** One model: its versions with stages, comment, source experiment and files; notes. */
export function ModelPage() {
  const params = useParams();
  const workspace = params.workspace ?? '';
  const name = params.model ?? '';
  const query = useRegistryModel(workspace, name);
  return (
    <div className="page registry-page">
      <Link to={`/-/registry/${encodeURIComponent(workspace)}`} className="muted">
        ← Models of {workspace}
      </Link>
      <QueryView query={query}>
        {(model) => (
          <>
            <div className="registry-title">
              <h1>{model.name}</h1>
              {model.isPublic && <span className="badge">public</span>}
              <span className="muted">
                {model.versionCount} {model.versionCount === 1 ? 'version' : 'versions'} · registered by{' '}
                {model.createdBy} · updated {formatTime(model.updatedAt)}
              </span>
            </div>
            {model.description && <p>{model.description}</p>}
            <PanelBoundary>
              <Versions workspace={workspace} model={model} />
            </PanelBoundary>
            <PanelBoundary>
              <Notes workspace={workspace} model={model} />
            </PanelBoundary>
          </>
        )}
      </QueryView>
    </div>
  );
}

type StageChange = { version: string; stage: string; remove: boolean };

function Versions({ workspace, model }: { workspace: string; model: RegistryModel }) {
  const [pending, setPending] = useState<StageChange | null>(null);
  const [open, setOpen] = useState<string | null>(model.versions[0]?.version ?? null);
  const mutation = useStageMutation(workspace, model.name);
  return (
    <section className="panel" aria-label="Versions">
      <div className="panel-header">Versions</div>
      {model.versions.length === 0 ? (
        <p className="muted panel-body">This model has no versions left.</p>
      ) : (
        <table className="simple versions-table">
          <thead>
            <tr>
              <th>Version</th>
              <th>Stages</th>
              <th>Comment</th>
              <th>Experiment</th>
              <th>Registered</th>
              <th className="num">Size</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          {model.versions.map((version) => (
            <tbody key={version.version}>
              <tr>
                <td>
                  <button
                    type="button"
                    className="tree-toggle mono"
                    aria-expanded={open === version.version}
                    onClick={() => setOpen(open === version.version ? null : version.version)}
                  >
                    <span aria-hidden="true">{open === version.version ? '▾' : '▸'}</span> {version.version}
                  </button>
                </td>
                <td>
                  <StageEditor
                    version={version}
                    onChange={(stage, remove) => setPending({ version: version.version, stage, remove })}
                  />
                </td>
                <td>{version.comment ?? <span className="muted">—</span>}</td>
                <td>
                  <ExperimentLink experimentKey={version.experimentKey} />
                  <div className="muted">model {version.experimentModel}</div>
                </td>
                <td>
                  {formatTime(version.createdAt)}
                  <div className="muted">{version.createdBy}</div>
                </td>
                <td className="num">{formatBytes(version.size)}</td>
                <td>
                  <a
                    className="btn btn-small"
                    href={registryVersionZipUrl(workspace, model.name, version.version)}
                    download={`${model.name}-${version.version}.zip`}
                  >
                    Download zip
                  </a>
                </td>
              </tr>
              {open === version.version && (
                <tr className="version-files">
                  <td colSpan={7}>
                    {version.files.length === 0 ? (
                      <span className="muted">No files (the experiment was deleted).</span>
                    ) : (
                      <ul className="file-list" aria-label={`Files of ${version.version}`}>
                        {version.files.map((file) => (
                          <li key={file.id}>
                            <DownloadLink
                              href={registryFileUrl(workspace, model.name, version.version, file.id)}
                              fileName={file.fileName}
                              className="mono"
                            >
                              {file.fileName}
                            </DownloadLink>
                            <span className="muted">{file.remote ? 'remote' : formatBytes(file.size)}</span>
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              )}
            </tbody>
          ))}
        </table>
      )}
      {mutation.isError && <InlineError error={mutation.error} />}
      {pending && (
        <Modal title={pending.remove ? 'Remove stage' : 'Add stage'} onClose={() => setPending(null)}>
          <p>
            {pending.remove ? 'Remove' : 'Add'} the stage <strong>{pending.stage}</strong>{' '}
            {pending.remove ? 'from' : 'to'} version <strong className="mono">{pending.version}</strong> of{' '}
            <strong>{model.name}</strong>? Stage webhooks of the workspace fire for it.
          </p>
          <ModalActions onCancel={() => setPending(null)}>
            <button
              type="button"
              className={pending.remove ? 'btn btn-danger' : 'btn btn-primary'}
              disabled={mutation.isPending}
              onClick={() => mutation.mutate(pending, { onSettled: () => setPending(null) })}
            >
              {pending.remove ? 'Remove stage' : 'Add stage'}
            </button>
          </ModalActions>
        </Modal>
      )}
    </section>
  );
}

function StageEditor({
  version,
  onChange,
}: {
  version: RegistryVersion;
  onChange: (stage: string, remove: boolean) => void;
}) {
  const [draft, setDraft] = useState('');
  return (
    <div className="stage-editor">
      {version.stages.map((stage) => (
        <span key={stage} className={`badge stage stage-${stageTone(stage)}`}>
          {stage}
          <RemoveButton
            label={`Remove stage ${stage} from ${version.version}`}
            onRemove={() => onChange(stage, true)}
          />
        </span>
      ))}
      <form
        className="stage-add"
        onSubmit={(event) => {
          event.preventDefault();
          const stage = draft.trim();
          if (stage) {
            onChange(stage, false);
            setDraft('');
          }
        }}
      >
        <input
          className="input input-small"
          list="known-stages"
          placeholder="Add stage"
          aria-label={`Add a stage to ${version.version}`}
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
        />
        <datalist id="known-stages">
          <option value="staging" />
          <option value="production" />
          <option value="archived" />
        </datalist>
      </form>
    </div>
  );
}

function Notes({ workspace, model }: { workspace: string; model: RegistryModel }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(model.notes);
  const mutation = useModelNotesMutation(workspace, model.name);
  return (
    <section className="panel" aria-label="Notes">
      <div className="panel-header">
        Notes
        {!editing && (
          <button
            type="button"
            className="btn btn-small panel-header-end"
            onClick={() => {
              setDraft(model.notes);
              setEditing(true);
            }}
          >
            Edit notes
          </button>
        )}
      </div>
      <div className="panel-body">
        {editing ? (
          <form
            className="notes-form"
            onSubmit={(event) => {
              event.preventDefault();
              mutation.mutate(draft, { onSuccess: () => setEditing(false) });
            }}
          >
            <textarea
              className="input notes-input"
              aria-label="Notes"
              value={draft}
              rows={8}
              onChange={(event) => setDraft(event.target.value)}
            />
            <ModalActions onCancel={() => setEditing(false)}>
              <button type="submit" className="btn btn-primary" disabled={mutation.isPending}>
                Save notes
              </button>
            </ModalActions>
            {mutation.isError && <InlineError error={mutation.error} />}
          </form>
        ) : model.notes ? (
          <div className="notes-text">{model.notes}</div>
        ) : (
          <p className="muted">No notes yet.</p>
        )}
      </div>
    </section>
  );
}

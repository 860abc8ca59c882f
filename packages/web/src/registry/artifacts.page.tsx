import type { Artifact } from '@cairn/sdk';
import { Link, useParams } from 'react-router';
import {
  artifactFileUrl,
  artifactVersionZipUrl,
  useArtifact,
  useArtifacts,
  useArtifactVersion,
} from '../api/artifacts.hooks';
import { DownloadLink, FileTableHead } from '../app/file-table';
import { PagedListFooter, PagedListView, pagedItems, SearchBox } from '../app/paged-list';
import { PanelBoundary, QueryView } from '../app/panel';
import { useUrlParam } from '../app/url-state';
import { formatBytes, formatTime } from '../experiment/format';
import { ExperimentLink } from './registry-shared';
import './registry.css';

/** The workspace's artifacts by name, filtered by type and searched. */
export function ArtifactsPage() {
  const workspace = useParams().workspace ?? '';
  const [search, setSearch] = useUrlParam('q');
  const [type, setType] = useUrlParam('type');
  const query = useArtifacts(workspace, { search, type });
  const { items: artifacts, total } = pagedItems(query.data);
  return (
    <div className="page registry-page">
      <div className="registry-title">
        <h1>Artifacts</h1>
        <span className="muted">{workspace}</span>
        <SearchBox
          value={type}
          onChange={setType}
          label="Artifact type"
          placeholder="Type (e.g. dataset)"
          className="registry-type"
          type="text"
        />
        <SearchBox value={search} onChange={setSearch} label="Search artifacts" className="registry-search" />
      </div>
      <PagedListView
        query={query}
        count={artifacts.length}
        empty={search || type ? 'No artifacts match.' : 'No artifacts were logged in this workspace yet.'}
      >
        <table className="simple" aria-label="Artifacts">
          <thead>
            <tr>
              <th>Artifact</th>
              <th>Type</th>
              <th>Latest version</th>
              <th className="num">Versions</th>
              <th className="num">Size</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {artifacts.map((artifact) => (
              <tr key={artifact.name}>
                <td>
                  {artifact.emoji && <span aria-hidden="true">{artifact.emoji} </span>}
                  <Link to={`/-/artifacts/${encodeURIComponent(workspace)}/${encodeURIComponent(artifact.name)}`}>
                    {artifact.name}
                  </Link>
                  {artifact.tags.length > 0 && (
                    <span className="stage-list">
                      {artifact.tags.map((tag) => (
                        <span key={tag} className="badge">
                          {tag}
                        </span>
                      ))}
                    </span>
                  )}
                </td>
                <td>
                  <button type="button" className="link-button" onClick={() => setType(artifact.type, { push: true })}>
                    {artifact.type}
                  </button>
                </td>
                <td className="mono">{artifact.latestVersion ?? '—'}</td>
                <td className="num">{artifact.versionCount}</td>
                <td className="num">{formatBytes(artifact.size)}</td>
                <td>{formatTime(artifact.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <PagedListFooter shown={artifacts.length} total={total} query={query} noun="artifacts" />
      </PagedListView>
    </div>
  );
}

/** One artifact: its versions (aliases, tags, state) and the files of the chosen one. */
export function ArtifactPage() {
  const params = useParams();
  const workspace = params.workspace ?? '';
  const name = params.artifact ?? '';
  const query = useArtifact(workspace, name);
  return (
    <div className="page registry-page">
      <Link to={`/-/artifacts/${encodeURIComponent(workspace)}`} className="muted">
        ← Artifacts of {workspace}
      </Link>
      <QueryView query={query}>
        {(artifact) => (
          <>
            <div className="registry-title">
              <h1>
                {artifact.emoji && <span aria-hidden="true">{artifact.emoji} </span>}
                {artifact.name}
              </h1>
              <span className="badge">{artifact.type}</span>
              <span className="muted">
                {artifact.versionCount} {artifact.versionCount === 1 ? 'version' : 'versions'} ·{' '}
                {formatBytes(artifact.size)} · by {artifact.createdBy}
              </span>
            </div>
            {artifact.description && <p>{artifact.description}</p>}
            <ArtifactVersions workspace={workspace} artifact={artifact} />
          </>
        )}
      </QueryView>
    </div>
  );
}

function ArtifactVersions({ workspace, artifact }: { workspace: string; artifact: Artifact }) {
  const [chosen, setChosen] = useUrlParam('version');
  const current = artifact.versions.find((v) => v.version === chosen) ?? artifact.versions[0];
  return (
    <div className="artifact-layout">
      <section className="panel" aria-label="Versions">
        <div className="panel-header">Versions</div>
        <table className="simple">
          <thead>
            <tr>
              <th>Version</th>
              <th>Aliases and tags</th>
              <th>State</th>
              <th className="num">Size</th>
              <th>Experiment</th>
              <th>Logged</th>
            </tr>
          </thead>
          <tbody>
            {artifact.versions.map((version) => (
              <tr key={version.version} className={version === current ? 'selected-row' : undefined}>
                <td>
                  <button
                    type="button"
                    className="link-button mono"
                    aria-current={version === current ? 'true' : undefined}
                    onClick={() => setChosen(version.version, { push: true })}
                  >
                    {version.version}
                  </button>
                </td>
                <td>
                  <span className="stage-list">
                    {version.aliases.map((alias) => (
                      <span key={`a-${alias}`} className="badge badge-running">
                        {alias}
                      </span>
                    ))}
                    {version.tags.map((tag) => (
                      <span key={`t-${tag}`} className="badge">
                        {tag}
                      </span>
                    ))}
                  </span>
                </td>
                <td>
                  <span
                    className={
                      version.state === 'CLOSED'
                        ? 'badge badge-ok'
                        : version.state === 'ERROR'
                          ? 'badge badge-failed'
                          : 'badge badge-warn'
                    }
                  >
                    {version.state.toLowerCase()}
                  </span>
                </td>
                <td className="num">{formatBytes(version.size)}</td>
                <td>
                  <ExperimentLink experimentKey={version.experimentKey} />
                </td>
                <td>{formatTime(version.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {current && (
        <PanelBoundary key={current.version}>
          <ArtifactFiles
            workspace={workspace}
            artifact={artifact.name}
            version={current.version}
            closed={current.state === 'CLOSED'}
          />
        </PanelBoundary>
      )}
    </div>
  );
}

function ArtifactFiles({
  workspace,
  artifact,
  version,
  closed,
}: {
  workspace: string;
  artifact: string;
  version: string;
  closed: boolean;
}) {
  const query = useArtifactVersion(workspace, artifact, version);
  return (
    <section className="panel" aria-label={`Files of ${version}`}>
      <div className="panel-header">
        Files of <span className="mono">{version}</span>
        {closed && (
          <a
            className="btn btn-small panel-header-end"
            href={artifactVersionZipUrl(workspace, artifact, version)}
            download={`${artifact}-${version}.zip`}
          >
            Download zip
          </a>
        )}
      </div>
      <QueryView query={query}>
        {(detail) =>
          detail.files.length === 0 ? (
            <p className="muted panel-body">This version has no files.</p>
          ) : (
            <table className="simple">
              <FileTableHead />
              <tbody>
                {detail.files.map((file) => (
                  <tr key={file.id}>
                    <td className="mono">{file.fileName}</td>
                    <td className="num">{file.remote ? 'remote' : formatBytes(file.size)}</td>
                    <td>
                      <DownloadLink
                        href={artifactFileUrl(workspace, artifact, version, file.id)}
                        fileName={file.fileName}
                        remote={file.remote}
                      >
                        {file.remote ? 'Open link' : 'Download'}
                      </DownloadLink>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryView>
    </section>
  );
}

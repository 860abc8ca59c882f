import { assetUrl, useModels } from '../api/experiment.hooks';
import { DownloadLink, FileTableHead } from '../app/file-table';
import { QueryView } from '../app/panel';
import type { TabProps } from './experiment.page';
import { formatBytes, formatTime } from './format';

/** The experiment's models, each with its files and their downloads. */
export function ModelsTab({ experimentKey }: TabProps) {
  const query = useModels(experimentKey);
  return (
    <QueryView query={query}>
      {(models) =>
        models.length === 0 ? (
          <p className="muted">No models were logged.</p>
        ) : (
          <div className="stack">
            {models.map((model) => (
              <section key={model.name} className="panel" aria-label={`Model ${model.name}`}>
                <div className="panel-header">
                  {model.name}
                  <span className="muted">
                    {model.assets.length} {model.assets.length === 1 ? 'file' : 'files'},{' '}
                    {formatBytes(model.assets.reduce((sum, a) => sum + a.size, 0))} · {formatTime(model.createdAt)}
                  </span>
                </div>
                <table className="simple">
                  <FileTableHead>
                    <th>Logged</th>
                  </FileTableHead>
                  <tbody>
                    {model.assets.map((asset) => (
                      <tr key={asset.id}>
                        <td className="mono">{asset.fileName}</td>
                        <td className="num">{formatBytes(asset.size)}</td>
                        <td>{formatTime(asset.createdAt)}</td>
                        <td>
                          <DownloadLink href={assetUrl(experimentKey, asset.id)} fileName={asset.fileName} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
            ))}
          </div>
        )
      }
    </QueryView>
  );
}

import { assetUrl, useModels } from '../api/experiment.hooks';
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
                  <thead>
                    <tr>
                      <th>File</th>
                      <th className="num">Size</th>
                      <th>Logged</th>
                      <th>
                        <span className="visually-hidden">Download</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {model.assets.map((asset) => (
                      <tr key={asset.id}>
                        <td className="mono">{asset.fileName}</td>
                        <td className="num">{formatBytes(asset.size)}</td>
                        <td>{formatTime(asset.createdAt)}</td>
                        <td>
                          <a href={assetUrl(experimentKey, asset.id)} download={asset.fileName.split('/').pop()}>
                            Download
                          </a>
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

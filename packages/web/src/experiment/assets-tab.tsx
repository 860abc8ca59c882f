import type { Asset } from '@cairn/sdk';
import { useMemo } from 'react';
import { assetUrl, useAssets, useAssetText } from '../api/experiment.hooks';
import { DownloadLink, FileTableHead } from '../app/file-table';
import { PanelBoundary, QueryView } from '../app/panel';
import { useUrlParam } from '../app/url-state';
import { parseConfusionMatrix, parseCurve } from './asset-formats';
import { ConfusionMatrixView } from './confusion-matrix';
import { CurveChart } from './curve-chart';
import type { TabProps } from './experiment.page';
import { formatBytes, formatTime } from './format';

function isImage(asset: Asset): boolean {
  return asset.type === 'image' || (asset.type !== 'asset' && asset.contentType.startsWith('image/'));
}

function byNameThenStep(a: Asset, b: Asset): number {
  return a.fileName.localeCompare(b.fileName) || (a.step ?? -1) - (b.step ?? -1);
}

/**
 * Everything uploaded: an image gallery with a step slider, confusion matrices, curves and text
 * samples drawn from their JSON or text, and every file by type with its download. Logged bytes
 * are untrusted: images load through `<img>` (an SVG there runs no script) from URLs the server
 * answers with `CSP: sandbox` and `nosniff`; JSON and text are parsed, never put in as HTML.
 */
export function AssetsTab({ experimentKey }: TabProps) {
  const query = useAssets(experimentKey);
  return (
    <QueryView query={query}>
      {(assets) => {
        if (assets.length === 0) return <p className="muted">No assets were logged.</p>;
        const images = assets.filter(isImage);
        const matrices = assets.filter((a) => a.type === 'confusion-matrix').sort(byNameThenStep);
        const curves = assets.filter((a) => a.type === 'curve').sort(byNameThenStep);
        const texts = assets.filter((a) => a.type === 'text-sample').sort(byNameThenStep);
        return (
          <div className="stack">
            {images.length > 0 && (
              <PanelBoundary>
                <ImageGallery experimentKey={experimentKey} images={images} />
              </PanelBoundary>
            )}
            {matrices.length > 0 && (
              <section className="panel" aria-label="Confusion matrices">
                <div className="panel-header">Confusion matrices</div>
                <div className="panel-body asset-cards">
                  {matrices.map((asset) => (
                    <PanelBoundary key={asset.id}>
                      <MatrixCard experimentKey={experimentKey} asset={asset} />
                    </PanelBoundary>
                  ))}
                </div>
              </section>
            )}
            {curves.length > 0 && (
              <section className="panel" aria-label="Curves">
                <div className="panel-header">Curves</div>
                <div className="panel-body asset-cards">
                  {curves.map((asset) => (
                    <PanelBoundary key={asset.id}>
                      <CurveCard experimentKey={experimentKey} asset={asset} />
                    </PanelBoundary>
                  ))}
                </div>
              </section>
            )}
            {texts.length > 0 && (
              <section className="panel" aria-label="Text samples">
                <div className="panel-header">Text samples</div>
                <div className="panel-body stack">
                  {texts.map((asset) => (
                    <PanelBoundary key={asset.id}>
                      <TextSample experimentKey={experimentKey} asset={asset} />
                    </PanelBoundary>
                  ))}
                </div>
              </section>
            )}
            <AssetFiles experimentKey={experimentKey} assets={assets} />
          </div>
        );
      }}
    </QueryView>
  );
}

function AssetCaption({ asset }: { asset: Asset }) {
  return (
    <div className="asset-caption">
      <span className="asset-name" title={asset.fileName}>
        {asset.fileName}
      </span>
      {asset.step !== null && <span className="muted">step {asset.step}</span>}
    </div>
  );
}

/**
 * Images by name, one card per name showing the image logged at the chosen step (the latest one
 * at or before it). The slider walks the steps images were logged at; its position is in the URL.
 */
function ImageGallery({ experimentKey, images }: { experimentKey: string; images: Asset[] }) {
  const steps = useMemo(
    () => [...new Set(images.map((i) => i.step).filter((s): s is number => s !== null))].sort((a, b) => a - b),
    [images],
  );
  const [stepParam, setStep] = useUrlParam('step');
  const lastStep = steps[steps.length - 1];
  const chosen = stepParam !== '' && steps.includes(Number(stepParam)) ? Number(stepParam) : lastStep;
  const names = useMemo(() => {
    const groups = new Map<string, Asset[]>();
    for (const image of [...images].sort(byNameThenStep)) {
      const list = groups.get(image.fileName) ?? [];
      list.push(image);
      groups.set(image.fileName, list);
    }
    return [...groups.entries()];
  }, [images]);
  const shown = names
    .map(([name, versions]) => {
      // The latest version at or before the chosen step; images without a step always show.
      const atStep =
        chosen === undefined
          ? versions[versions.length - 1]
          : ([...versions].reverse().find((v) => v.step === null || v.step <= chosen) ?? undefined);
      return { name, asset: atStep };
    })
    .filter((entry): entry is { name: string; asset: Asset } => entry.asset !== undefined);
  const stepIndex = chosen === undefined ? 0 : steps.indexOf(chosen);
  return (
    <section className="panel" aria-label="Images">
      <div className="panel-header">
        Images <span className="muted">({images.length})</span>
        {steps.length > 1 && (
          <label className="step-slider panel-header-end">
            <span>Step</span>
            <input
              type="range"
              min={0}
              max={steps.length - 1}
              value={stepIndex}
              aria-valuetext={`step ${chosen}`}
              onChange={(event) => setStep(String(steps[Number(event.target.value)]))}
            />
            <output className="mono">{chosen}</output>
          </label>
        )}
      </div>
      <div className="panel-body image-grid">
        {shown.map(({ name, asset }) => (
          <figure key={name} className="image-card">
            <a href={assetUrl(experimentKey, asset.id)} target="_blank" rel="noreferrer noopener">
              <img src={assetUrl(experimentKey, asset.id)} alt={asset.fileName} loading="lazy" />
            </a>
            <figcaption>
              <AssetCaption asset={asset} />
            </figcaption>
          </figure>
        ))}
      </div>
    </section>
  );
}

function MatrixCard({ experimentKey, asset }: { experimentKey: string; asset: Asset }) {
  const query = useAssetText(experimentKey, asset.id);
  return (
    <figure className="asset-card">
      <QueryView query={query}>
        {(text) => {
          const matrix = parseConfusionMatrix(text);
          return matrix ? (
            <ConfusionMatrixView matrix={matrix} />
          ) : (
            <p className="muted">This file is not a confusion matrix.</p>
          );
        }}
      </QueryView>
      <figcaption>
        <AssetCaption asset={asset} />
      </figcaption>
    </figure>
  );
}

function CurveCard({ experimentKey, asset }: { experimentKey: string; asset: Asset }) {
  const query = useAssetText(experimentKey, asset.id);
  return (
    <figure className="asset-card">
      <QueryView query={query}>
        {(text) => {
          const curve = parseCurve(text);
          return curve ? (
            <CurveChart curve={curve} title={curve.name ?? asset.fileName} showTitle={curve.name !== asset.fileName} />
          ) : (
            <p className="muted">This file is not a curve.</p>
          );
        }}
      </QueryView>
      <figcaption>
        <AssetCaption asset={asset} />
      </figcaption>
    </figure>
  );
}

/** At most this much of a text sample is shown; the whole file is a download away. */
const TEXT_PREVIEW_CHARS = 20_000;

function TextSample({ experimentKey, asset }: { experimentKey: string; asset: Asset }) {
  const query = useAssetText(experimentKey, asset.id);
  return (
    <figure className="text-sample">
      <figcaption>
        <AssetCaption asset={asset} />
      </figcaption>
      <QueryView query={query}>
        {(text) => (
          <pre>
            {text.slice(0, TEXT_PREVIEW_CHARS)}
            {text.length > TEXT_PREVIEW_CHARS && '…'}
          </pre>
        )}
      </QueryView>
    </figure>
  );
}

function AssetFiles({ experimentKey, assets }: { experimentKey: string; assets: Asset[] }) {
  const [search, setSearch] = useUrlParam('q');
  const needle = search.toLowerCase();
  const groups = useMemo(() => {
    const byType = new Map<string, Asset[]>();
    for (const asset of assets) {
      if (needle && !asset.fileName.toLowerCase().includes(needle)) continue;
      const list = byType.get(asset.type) ?? [];
      list.push(asset);
      byType.set(asset.type, list);
    }
    return [...byType.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [assets, needle]);
  return (
    <section className="panel" aria-label="Files">
      <div className="panel-header">
        Files <span className="muted">({assets.length})</span>
        <input
          className="input input-small panel-header-end"
          type="search"
          placeholder="Search files"
          aria-label="Search files"
          data-shortcut-focus
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
      </div>
      {groups.length === 0 ? (
        <p className="muted panel-body">No files match.</p>
      ) : (
        <table className="simple" aria-label="Asset files">
          <FileTableHead>
            <th className="num">Step</th>
            <th>Logged</th>
          </FileTableHead>
          {groups.map(([type, list]) => (
            <tbody key={type}>
              <tr className="group-row">
                <th colSpan={5} scope="rowgroup">
                  {type} <span className="muted">({list.length})</span>
                </th>
              </tr>
              {[...list].sort(byNameThenStep).map((asset) => (
                <tr key={asset.id}>
                  <td className="mono">
                    {asset.fileName}
                    {asset.remote && <span className="badge">remote</span>}
                  </td>
                  <td className="num">{asset.remote ? '—' : formatBytes(asset.size)}</td>
                  <td className="num">{asset.step ?? ''}</td>
                  <td>{formatTime(asset.createdAt)}</td>
                  <td>
                    <DownloadLink href={assetUrl(experimentKey, asset.id)} fileName={asset.fileName} />
                  </td>
                </tr>
              ))}
            </tbody>
          ))}
        </table>
      )}
    </section>
  );
}

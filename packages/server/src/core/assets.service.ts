import type { Readable } from 'node:stream';
import type { BlobStore, ByteRange } from './blob.port.js';
import type { Clock } from './clock.port.js';
import type { Asset, ExperimentModel } from './entities.js';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from './errors.js';
import type { ExperimentsService } from './experiments.service.js';
import { newHexId } from './ids.js';
import { type Principal, requireScope } from './principal.js';
import { assetBlobKey } from './projects.service.js';
import * as rules from './rules.js';
import type { Store } from './store.port.js';

/** The asset type that makes an upload part of a named experiment model. */
export const MODEL_ELEMENT_TYPE = 'model-element';
const ASSET_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface AssetUpload {
  fileName: string;
  /** Absent means a plain asset ("asset"). */
  type?: string | null;
  step?: number | null;
  epoch?: number | null;
  context?: string | null;
  groupingName?: string | null;
  artifactVersionId?: string | null;
  /** JSON text, stored verbatim after a syntax check. */
  metadata?: string | null;
  overwrite?: boolean;
  /** Client-chosen id (honoured when free). */
  assetId?: string | null;
  /** For remote assets: the URI; no bytes are stored. */
  remoteLink?: string | null;
}

export class AssetsService {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly experiments: ExperimentsService,
    private readonly clock: Clock,
    private readonly maxAssetBytes: number,
  ) {}

  /**
   * Stores an asset. The bytes are streamed to the blob store first; the row is committed only
   * after they are durable, so a listed asset always has its bytes. With `overwrite`, assets of
   * the same file name in the same model/artifact scope are replaced.
   */
  async upload(principal: Principal, key: string, upload: AssetUpload, body: Readable | null): Promise<Asset> {
    requireScope(principal, 'write');
    const experiment = await this.experiments.writable(this.store, principal, key);
    const asset = this.newAsset(experiment.id, upload);
    if (body === null && !asset.remote) throw new InvalidArgumentError('an asset upload needs a file part');
    if (await this.findAnywhere(asset.id)) throw new AlreadyExistsError(`asset ${asset.id} already exists`);

    if (body !== null && !asset.remote) {
      asset.blobKey = assetBlobKey(experiment.id, asset.id);
      asset.fileSize = (await this.blobs.put(asset.blobKey, body, { maxBytes: this.maxAssetBytes })).size;
    }
    let replaced: Asset[] = [];
    try {
      replaced = await this.store.transaction(async (tx) => {
        await this.experiments.writable(tx, principal, key);
        const same = upload.overwrite
          ? await tx.assets.listSameName(experiment.id, asset.fileName, asset.groupingName, asset.artifactVersionId)
          : [];
        for (const old of same) await tx.assets.delete(experiment.id, old.id);
        if (asset.type === MODEL_ELEMENT_TYPE && asset.groupingName) {
          await tx.assets.ensureModel({
            id: newHexId(),
            experimentId: experiment.id,
            name: asset.groupingName,
            createdAt: asset.createdAt,
          });
        }
        await tx.assets.insert(asset);
        await tx.experiments.update(experiment.id, { updatedAt: asset.createdAt });
        return same;
      });
    } catch (error) {
      if (asset.blobKey) await this.blobs.delete(asset.blobKey);
      throw error;
    }
    for (const old of replaced) if (old.blobKey) await this.blobs.delete(old.blobKey);
    return asset;
  }

  /** `type` undefined lists everything; "unknown" also matches plain assets. */
  async list(principal: Principal, key: string, type?: string): Promise<Asset[]> {
    requireScope(principal, 'read');
    const experiment = await this.experiments.readable(this.store, principal, key);
    if (type === undefined || type === 'all') return this.store.assets.list(experiment.id);
    const assets = await this.store.assets.list(experiment.id, { type });
    return type === 'unknown'
      ? [...assets, ...(await this.store.assets.list(experiment.id, { type: 'asset' }))]
      : assets;
  }

  async details(principal: Principal, key: string, assetId: string): Promise<Asset> {
    requireScope(principal, 'read');
    const experiment = await this.experiments.readable(this.store, principal, key);
    const asset = await this.store.assets.get(experiment.id, assetId);
    if (!asset) throw new NotFoundError(`asset ${assetId} not found`);
    return asset;
  }

  /** Opens an asset's bytes (or a range of them). Remote assets have none: callers redirect. */
  async open(
    principal: Principal,
    key: string,
    assetId: string,
    range?: ByteRange,
  ): Promise<{ asset: Asset; body: Readable | null }> {
    const asset = await this.details(principal, key, assetId);
    if (asset.remote || !asset.blobKey) return { asset, body: null };
    const body = await this.blobs.get(asset.blobKey, range);
    if (!body) throw new NotFoundError(`the bytes of asset ${assetId} are missing`);
    return { asset, body };
  }

  async delete(principal: Principal, key: string, assetId: string): Promise<void> {
    requireScope(principal, 'write');
    const asset = await this.store.transaction(async (tx) => {
      const experiment = await this.experiments.writable(tx, principal, key);
      const found = await tx.assets.get(experiment.id, assetId);
      if (!found) throw new NotFoundError(`asset ${assetId} not found`);
      await tx.assets.delete(experiment.id, assetId);
      return found;
    });
    if (asset.blobKey) await this.blobs.delete(asset.blobKey);
  }

  async listModels(principal: Principal, key: string): Promise<ExperimentModel[]> {
    requireScope(principal, 'read');
    const experiment = await this.experiments.readable(this.store, principal, key);
    return this.store.assets.listModels(experiment.id);
  }

  /** The assets of one experiment model; unknown model names are "not found". */
  async modelAssets(
    principal: Principal,
    key: string,
    modelName: string,
  ): Promise<{ model: ExperimentModel; assets: Asset[] }> {
    requireScope(principal, 'read');
    const experiment = await this.experiments.readable(this.store, principal, key);
    const model = await this.store.assets.getModel(experiment.id, modelName);
    if (!model) throw new NotFoundError(`model "${modelName}" not found in experiment ${key}`);
    return { model, assets: await this.store.assets.list(experiment.id, { groupingName: modelName }) };
  }

  /** Streams an asset's bytes without a second permission check (for zips of checked assets). */
  async openChecked(asset: Asset): Promise<Readable | undefined> {
    return asset.blobKey ? this.blobs.get(asset.blobKey) : undefined;
  }

  private async findAnywhere(assetId: string): Promise<boolean> {
    // Asset ids are global primary keys; a client-chosen id that is taken must be refused early.
    return (await this.store.assets.getById(assetId)) !== undefined;
  }

  private newAsset(experimentId: string, upload: AssetUpload): Asset {
    rules.entryName('asset file', upload.fileName);
    if (upload.assetId && !ASSET_ID.test(upload.assetId)) {
      throw new InvalidArgumentError(`invalid assetId "${upload.assetId}"`);
    }
    if (upload.metadata) {
      try {
        JSON.parse(upload.metadata);
      } catch {
        throw new InvalidArgumentError('asset metadata must be a JSON document');
      }
    }
    const type = upload.type || 'asset';
    if (type === MODEL_ELEMENT_TYPE && !upload.groupingName) {
      throw new InvalidArgumentError('a model-element asset needs groupingName (the model name)');
    }
    const remote = Boolean(upload.remoteLink);
    return {
      id: upload.assetId || newHexId(),
      experimentId,
      fileName: upload.fileName,
      fileSize: 0,
      type,
      step: rules.optionalInteger('step', upload.step),
      epoch: rules.optionalInteger('epoch', upload.epoch),
      context: upload.context ?? null,
      dir: type === MODEL_ELEMENT_TYPE ? 'model-element' : 'assets',
      metadata: upload.metadata ?? null,
      tags: [],
      remote,
      link: remote ? (upload.remoteLink ?? null) : null,
      groupingName: upload.groupingName ?? null,
      artifactVersionId: upload.artifactVersionId ?? null,
      blobKey: null,
      createdAt: this.clock.now(),
    };
  }
}

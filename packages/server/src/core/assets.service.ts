import type { Readable } from 'node:stream';
import { lockOpenArtifactVersion, readableArtifactVersion, requireOpenArtifactVersion } from './artifacts.service.js';
import type { BlobStore, ByteRange } from './blob.port.js';
import type { Clock } from './clock.port.js';
import type { Asset, ExperimentModel } from './entities.js';
import {
  AlreadyExistsError,
  DomainError,
  InvalidArgumentError,
  NotFoundError,
  QuotaExceededError,
  TooLargeError,
} from './errors.js';
import type { ExperimentsService } from './experiments.service.js';
import { newHexId } from './ids.js';
import type { LiveEventBus } from './live-events.port.js';
import { type Principal, requireScope } from './principal.js';
import { assetBlobKey } from './projects.service.js';
import * as rules from './rules.js';
import type { Store } from './store.port.js';

/** The asset type that makes an upload part of a named experiment model. */
export const MODEL_ELEMENT_TYPE = 'model-element';
const ASSET_ID = /^[A-Za-z0-9_-]{1,64}$/;
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/** Remote links are opaque URIs (comet_ml imposes no format); the cap keeps rows and headers sane. */
const MAX_REMOTE_LINK_LENGTH = 8192;

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
  /**
   * An `assetId` this experiment already has replaces that asset (bytes and fields) instead of
   * being refused, so a retried upload stores one copy. An id of another experiment's asset, or
   * of a file of an artifact version, is still "already exists".
   */
  replaceSameId?: boolean;
  /** The client declares a remote asset (Comet's `isRemote`); it then needs `remoteLink`. */
  remote?: boolean;
  /** For remote assets: the URI; no bytes are stored. */
  remoteLink?: string | null;
}

/**
 * Upload fields that arrive after the bytes: multipart clients (comet_ml among them) may send the
 * `metadata` part after the `file` part, and a stream cannot be read past without consuming it.
 * A field left out (or null) keeps the value given before the bytes; the others are checked as
 * if they had come first, after the bytes are stored.
 */
export type AssetUploadTrailer = Partial<
  Pick<
    AssetUpload,
    'fileName' | 'type' | 'step' | 'epoch' | 'context' | 'groupingName' | 'metadata' | 'assetId' | 'remoteLink'
  >
>;

/** Names an asset: by experiment and id, or by id alone (artifact downloads carry no key). */
export interface AssetLocator {
  experimentKey?: string | null;
  assetId: string;
  /**
   * When given, the asset must be a file of this artifact version, and `experimentKey` is ignored:
   * comet_ml sends the key of the experiment consuming the artifact, not of the one that logged it.
   */
  artifactVersionId?: string | null;
}

/** One file of a zip built from assets: the entry path and the asset whose bytes it holds. */
export interface AssetArchiveEntry {
  path: string;
  asset: Asset;
}

export class AssetsService {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly experiments: ExperimentsService,
    private readonly clock: Clock,
    private readonly maxAssetBytes: number,
    private readonly live: LiveEventBus,
    /** Most bytes of asset files a workspace may hold; 0 = no quota. */
    private readonly workspaceQuotaBytes = 0,
  ) {}

  /**
   * Stores an asset. Everything that can be checked before the bytes is checked first, so a
   * refused upload streams nothing. The bytes then go to the blob store, `trailer` (if any) is
   * read and its fields checked, and the row is committed last, so a listed asset always has its
   * bytes; any failure on the way deletes the bytes again. With `overwrite`, assets of the same file name in the same
   * model/artifact scope are replaced.
   */
  async upload(
    principal: Principal,
    key: string,
    upload: AssetUpload,
    body: Readable | null,
    trailer?: () => Promise<AssetUploadTrailer>,
  ): Promise<Asset> {
    requireScope(principal, 'write');
    const experiment = await this.experiments.writable(this.store, principal, key);
    const asset = this.newAsset(experiment.id, upload);
    if (asset.remote && body !== null) throw new InvalidArgumentError('a remote asset has a link and no file part');
    if (!asset.remote && body === null) throw new InvalidArgumentError('an asset upload needs a file part');
    await this.requireFreeId(asset.id, experiment.id, upload);
    if (asset.artifactVersionId) {
      await requireOpenArtifactVersion(this.store, principal, experiment.workspaceId, asset.artifactVersionId);
    }

    let replaced: Asset[];
    try {
      if (body !== null) {
        // A blob key of its own per upload (not the asset id): an upload that fails, or races
        // another one with the same client-chosen id, can then never overwrite or delete bytes
        // that belong to a committed asset. A failed put is cleaned up here too: a remote store
        // may have kept the object although it reported failure (its answer was lost).
        asset.blobKey = assetBlobKey(experiment.id, newHexId());
        const room = await this.quotaRoom(experiment.workspaceId);
        try {
          asset.fileSize = (
            await this.blobs.put(asset.blobKey, body, { maxBytes: Math.min(this.maxAssetBytes, room) })
          ).size;
        } catch (error) {
          // Cut short by the quota rather than the asset limit: the blob store kept nothing.
          if (error instanceof TooLargeError && room < this.maxAssetBytes) throw this.overQuota();
          throw error;
        }
      }
      if (trailer) {
        const late = await trailer();
        if (late.remoteLink) throw new InvalidArgumentError('a remote asset has a link and no file part');
        const given = Object.fromEntries(Object.entries(late).filter(([, value]) => value != null));
        if (Object.keys(given).length > 0) {
          const final = this.newAsset(experiment.id, { ...upload, assetId: asset.id, ...given });
          if (final.id !== asset.id) await this.requireFreeId(final.id, experiment.id, upload);
          Object.assign(asset, {
            ...final,
            blobKey: asset.blobKey,
            fileSize: asset.fileSize,
            createdAt: asset.createdAt,
          });
        }
      }
      replaced = await this.commit(principal, key, asset, {
        overwrite: upload.overwrite ?? false,
        replaceSameId: upload.replaceSameId ?? false,
      });
    } catch (error) {
      // Whatever stops the delete (the blob store failing too) must not hide why the upload
      // failed; bytes left behind without a row are the blob sweep's to remove.
      if (asset.blobKey) await this.blobs.delete(asset.blobKey).catch(() => {});
      throw error;
    }
    this.live.publish({ type: 'asset', experimentId: experiment.id, projectId: experiment.projectId, asset });
    // Old bytes go after the commit: a crash in between leaves unreferenced files, never dangling rows.
    for (const old of replaced) if (old.blobKey) await this.blobs.delete(old.blobKey);
    return asset;
  }

  /** Assets by creation time. `type` undefined or "all" lists everything; "unknown" also matches plain assets. */
  async list(principal: Principal, key: string, type?: string): Promise<Asset[]> {
    requireScope(principal, 'read');
    const experiment = await this.experiments.readable(this.store, principal, key);
    if (type === undefined || type === 'all') return this.store.assets.list(experiment.id);
    const assets = await this.store.assets.list(experiment.id, { type });
    if (type !== 'unknown') return assets;
    const plain = await this.store.assets.list(experiment.id, { type: 'asset' });
    return [...assets, ...plain].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async details(principal: Principal, key: string, assetId: string): Promise<Asset> {
    return this.find(principal, { experimentKey: key, assetId });
  }

  /**
   * Finds an asset the principal may read. Without an experiment key the asset is looked up by
   * its (globally unique) id and its experiment is checked, reported as "asset not found" alike
   * so ids cannot be probed across tenants. A file of an artifact version is readable by the
   * members of the artifact's workspace.
   */
  async find(principal: Principal, locator: AssetLocator): Promise<Asset> {
    requireScope(principal, 'read');
    let asset: Asset | undefined;
    if (locator.artifactVersionId) {
      asset = await this.store.assets.getById(locator.assetId);
      if (asset?.artifactVersionId !== locator.artifactVersionId) asset = undefined;
      else if (!(await readableArtifactVersion(this.store, principal, locator.artifactVersionId))) asset = undefined;
    } else if (locator.experimentKey) {
      const experiment = await this.experiments.readable(this.store, principal, locator.experimentKey);
      asset = await this.store.assets.get(experiment.id, locator.assetId);
    } else {
      asset = await this.store.assets.getById(locator.assetId);
      if (asset && !(await this.isReadable(principal, asset.experimentId))) asset = undefined;
    }
    if (!asset) throw new NotFoundError(`asset ${locator.assetId} not found`);
    return asset;
  }

  /**
   * Streams the bytes (or an inclusive byte range) of an asset obtained from a checked call
   * (`find`, `list`, `modelAssets`); no second permission check. Undefined for remote assets and
   * for bytes that have gone missing.
   */
  async openChecked(asset: Asset, range?: ByteRange): Promise<Readable | undefined> {
    return asset.blobKey ? this.blobs.get(asset.blobKey, range) : undefined;
  }

  async delete(principal: Principal, key: string, assetId: string): Promise<void> {
    requireScope(principal, 'write');
    const asset = await this.store.transaction(async (tx) => {
      const experiment = await this.experiments.writable(tx, principal, key);
      const found = await tx.assets.get(experiment.id, assetId);
      if (!found) throw new NotFoundError(`asset ${assetId} not found`);
      // A closed artifact version's files are immutable. Ids of versions that do not exist (rows
      // written before artifacts were served) name nothing to protect.
      if (found.artifactVersionId && (await tx.artifacts.getVersion(found.artifactVersionId))) {
        await lockOpenArtifactVersion(tx, principal, experiment.workspaceId, found.artifactVersionId, this.clock.now());
      }
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

  /** The model-element assets of one experiment model; unknown model names are "not found". */
  async modelAssets(
    principal: Principal,
    key: string,
    modelName: string,
  ): Promise<{ model: ExperimentModel; assets: Asset[] }> {
    requireScope(principal, 'read');
    const experiment = await this.experiments.readable(this.store, principal, key);
    const model = await this.store.assets.getModel(experiment.id, modelName);
    if (!model) throw new NotFoundError(`model "${modelName}" not found in experiment ${key}`);
    const assets = await this.store.assets.list(experiment.id, { groupingName: modelName, type: MODEL_ELEMENT_TYPE });
    return { model, assets };
  }

  /**
   * Inserts the row, replacing same-named assets when `overwrite` and the asset with the same id
   * when `replaceSameId`; returns the replaced ones.
   */
  private async commit(
    principal: Principal,
    key: string,
    asset: Asset,
    options: { overwrite: boolean; replaceSameId: boolean },
  ): Promise<Asset[]> {
    const { overwrite, replaceSameId } = options;
    try {
      return await this.store.transaction(async (tx) => {
        const experiment = await this.experiments.writable(tx, principal, key);
        const replaced: Asset[] = [];
        // The experiment's row lock first, on every path: a retry racing its original upload
        // then waits for it and replaces what it committed, instead of failing on the duplicate
        // id; and every upload takes the experiment's lock before the workspace usage counter's
        // (which the insert takes), so concurrent uploads cannot deadlock on the two.
        await tx.experiments.update(experiment.id, { updatedAt: asset.createdAt });
        if (replaceSameId) {
          const previous = await tx.assets.get(experiment.id, asset.id);
          if (previous) {
            if (!replaceable(previous, experiment.id)) throw new AlreadyExistsError(`asset ${asset.id} already exists`);
            await tx.assets.delete(experiment.id, previous.id);
            replaced.push(previous);
          }
        }
        // Locked so that the version cannot close between this check and the commit.
        if (asset.artifactVersionId) {
          await lockOpenArtifactVersion(
            tx,
            principal,
            experiment.workspaceId,
            asset.artifactVersionId,
            asset.createdAt,
          );
        }
        const same = overwrite
          ? await tx.assets.listSameName(experiment.id, asset.fileName, asset.groupingName, asset.artifactVersionId)
          : [];
        for (const old of same) await tx.assets.delete(experiment.id, old.id);
        replaced.push(...same);
        if (asset.type === MODEL_ELEMENT_TYPE && asset.groupingName) {
          await tx.assets.ensureModel({
            id: newHexId(),
            experimentId: experiment.id,
            name: asset.groupingName,
            createdAt: asset.createdAt,
          });
        }
        await tx.assets.insert(asset);
        // Checked again with this upload counted (and what it replaces gone): uploads that each
        // fitted the room left when they began may not all fit together. The insert holds the
        // counter's row lock, so concurrent commits see each other.
        if (
          this.workspaceQuotaBytes > 0 &&
          asset.fileSize > 0 &&
          (await tx.assets.workspaceBytes(experiment.workspaceId)) > this.workspaceQuotaBytes
        ) {
          throw this.overQuota();
        }
        return replaced;
      });
    } catch (error) {
      // Two uploads with one client-chosen id can both pass the early check; the loser's insert
      // then fails on the primary key, which is a conflict, not a server fault.
      if (!(error instanceof DomainError) && (await this.findAnywhere(asset.id))) {
        throw new AlreadyExistsError(`asset ${asset.id} already exists`);
      }
      throw error;
    }
  }

  /** Bytes the workspace may still store (unbounded without a quota); none left is refused now. */
  private async quotaRoom(workspaceId: string): Promise<number> {
    if (this.workspaceQuotaBytes <= 0) return Number.POSITIVE_INFINITY;
    const room = this.workspaceQuotaBytes - (await this.store.assets.workspaceBytes(workspaceId));
    if (room <= 0) throw this.overQuota();
    return room;
  }

  private overQuota(): QuotaExceededError {
    return new QuotaExceededError(
      `this upload would take the workspace over its storage quota of ${this.workspaceQuotaBytes} bytes; delete assets or ask for a larger quota`,
    );
  }

  private async isReadable(principal: Principal, experimentKey: string): Promise<boolean> {
    try {
      await this.experiments.readable(this.store, principal, experimentKey);
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  private async findAnywhere(assetId: string): Promise<boolean> {
    // Asset ids are global primary keys; a client-chosen id that is taken must be refused early.
    return (await this.store.assets.getById(assetId)) !== undefined;
  }

  /** An id in use is "already exists", unless the upload may replace this experiment's asset. */
  private async requireFreeId(id: string, experimentId: string, upload: AssetUpload): Promise<void> {
    const taken = await this.store.assets.getById(id);
    if (taken && !(upload.replaceSameId && replaceable(taken, experimentId))) {
      throw new AlreadyExistsError(`asset ${id} already exists`);
    }
  }

  private newAsset(experimentId: string, upload: AssetUpload): Asset {
    rules.entryName('asset file', upload.fileName);
    if (upload.assetId && !ASSET_ID.test(upload.assetId)) {
      throw new InvalidArgumentError(`invalid assetId "${upload.assetId}"`);
    }
    const type = upload.type || 'asset';
    rules.entryName('asset type', type);
    if (upload.groupingName) rules.entryName('model', upload.groupingName);
    if (type === MODEL_ELEMENT_TYPE && !upload.groupingName) {
      throw new InvalidArgumentError('a model-element asset needs groupingName (the model name)');
    }
    const remote = Boolean(upload.remote) || Boolean(upload.remoteLink);
    if (remote && !upload.remoteLink) throw new InvalidArgumentError('a remote asset needs a link part');
    return {
      id: upload.assetId || newHexId(),
      experimentId,
      fileName: upload.fileName,
      fileSize: 0,
      type,
      step: rules.optionalInteger('step', upload.step),
      epoch: rules.optionalInteger('epoch', upload.epoch),
      context: upload.context || null,
      dir: type === MODEL_ELEMENT_TYPE ? 'model-element' : 'assets',
      metadata: upload.metadata == null ? null : checkedMetadata(upload.metadata),
      tags: [],
      remote,
      link: remote ? remoteLink(upload.remoteLink ?? '') : null,
      groupingName: upload.groupingName || null,
      artifactVersionId: upload.artifactVersionId || null,
      blobKey: null,
      createdAt: this.clock.now(),
    };
  }
}

/**
 * The entries of a zip of assets (an experiment model's download). File names are logical paths
 * from clients, so they are made relative and `.`/`..` segments are dropped: a zip entry must
 * never unpack outside its folder. Remote assets have no bytes and are left out. When two assets
 * map to one path, the later upload wins, as it would on a file system.
 */
export function assetArchiveEntries(assets: readonly Asset[]): AssetArchiveEntry[] {
  const byPath = new Map<string, Asset>();
  for (const asset of assets) {
    if (asset.remote || !asset.blobKey) continue;
    const segments = asset.fileName
      .replace(/\\/g, '/')
      .replace(/^[A-Za-z]:/, '')
      .split('/')
      .filter((segment) => segment !== '' && segment !== '.' && segment !== '..');
    const path = segments.length > 0 ? segments.join('/') : asset.id;
    byPath.delete(path);
    byPath.set(path, asset);
  }
  return [...byPath].map(([path, asset]) => ({ path, asset }));
}

/** An asset a client may replace by uploading under its id: this experiment's, not an artifact file. */
function replaceable(asset: Asset, experimentId: string): boolean {
  return asset.experimentId === experimentId && asset.artifactVersionId === null;
}

function checkedMetadata(text: string): string | null {
  if (text === '') return null;
  try {
    JSON.parse(text);
  } catch {
    throw new InvalidArgumentError('asset metadata must be a JSON document');
  }
  return text;
}

function remoteLink(value: string): string {
  if (value.length > MAX_REMOTE_LINK_LENGTH) {
    throw new InvalidArgumentError(`a remote asset link must be at most ${MAX_REMOTE_LINK_LENGTH} characters`);
  }
  // The link becomes a Location header on download; control characters would break the header.
  if (CONTROL_CHARS.test(value))
    throw new InvalidArgumentError('a remote asset link must not contain control characters');
  return value;
}

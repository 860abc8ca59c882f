import type { Readable } from 'node:stream';
import { type AssetsService, MODEL_ELEMENT_TYPE } from './assets.service.js';
import type { ByteRange } from './blob.port.js';
import type { Clock } from './clock.port.js';
import type { Asset, Experiment, ExperimentModel } from './entities.js';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from './errors.js';
import type { ExperimentsService } from './experiments.service.js';
import { newHexId } from './ids.js';
import { type Principal, requireScope } from './principal.js';
import * as rules from './rules.js';
import type { Store } from './store.port.js';

/**
 * Which files of an experiment a tree shows: all of them (an MLflow run's artifacts), or the
 * files of one experiment model (an MLflow logged model's artifacts).
 */
export interface FileTreeScope {
  /** The experiment model whose files the tree holds; absent: every file of the experiment. */
  model?: string;
}

/** A file of a tree: its `/`-separated path and the asset holding its bytes. */
export interface TreeFile {
  path: string;
  asset: Asset;
}

/** One entry of a folder listing: a file (with its size) or a sub-folder. */
export interface TreeEntry {
  /** The path from the tree's root. */
  path: string;
  isDir: boolean;
  /** Bytes of a file; absent for folders. */
  size?: number;
}

/** Extensions stored as image assets, so that the UI's image gallery shows them. */
const IMAGE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp']);
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * An experiment's assets as a tree of paths (docs/api/mlflow.md, "Artifacts"): a plain asset is
 * at its file name, a model's file at `<model name>/<file name>`, and folders are the
 * `/`-separated prefixes. Files of artifact versions (Comet artifacts) and remote assets (no
 * bytes in Cairn) are not part of it. Writing a path replaces the file there; writes need the
 * experiment not to be archived (MLflow's deleted run).
 */
export class FileTreeService {
  constructor(
    private readonly store: Store,
    private readonly assets: AssetsService,
    private readonly experiments: ExperimentsService,
    private readonly clock: Clock,
  ) {}

  /** Every file of the tree; when two assets have one path, the one uploaded later. */
  async files(principal: Principal, key: string, scope: FileTreeScope = {}): Promise<TreeFile[]> {
    requireScope(principal, 'read');
    const experiment = await this.experiments.readable(this.store, principal, key);
    return this.treeOf(experiment.id, scope);
  }

  /**
   * The entries directly inside folder `dir` ("" for the root), files and folders by path;
   * undefined when no file lies under it (MLflow answers a missing folder with no files).
   */
  async list(
    principal: Principal,
    key: string,
    dir: string,
    scope: FileTreeScope = {},
  ): Promise<TreeEntry[] | undefined> {
    const folder = dir === '' ? '' : treePath(dir);
    const prefix = folder === '' ? '' : `${folder}/`;
    const entries = new Map<string, TreeEntry>();
    for (const file of await this.files(principal, key, scope)) {
      if (!file.path.startsWith(prefix)) continue;
      const rest = file.path.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash < 0) entries.set(file.path, { path: file.path, isDir: false, size: file.asset.fileSize });
      else {
        const sub = `${prefix}${rest.slice(0, slash)}`;
        if (!entries.has(sub)) entries.set(sub, { path: sub, isDir: true });
      }
    }
    if (entries.size === 0) return undefined;
    return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /**
   * The file at `path`; "not found" when there is none (a folder is not a file). Looked up by
   * exact file name first (a download of every file of a run stays linear), then among the
   * normalised names of the whole tree (Comet clients may log `./a.txt`).
   */
  async find(principal: Principal, key: string, path: string, scope: FileTreeScope = {}): Promise<Asset> {
    requireScope(principal, 'read');
    const wanted = treePath(path);
    const experiment = await this.experiments.readable(this.store, principal, key);
    const exact = (await this.assetsAt(experiment.id, wanted, scope)).filter(inTree).at(-1);
    const file = exact ?? (await this.treeOf(experiment.id, scope)).find((f) => f.path === wanted)?.asset;
    if (!file) throw new NotFoundError(`no file "${wanted}" in experiment ${key}`);
    return file;
  }

  /** Streams a file found by `find` (or a byte range of it). */
  async open(asset: Asset, range?: ByteRange): Promise<Readable | undefined> {
    return this.assets.openChecked(asset, range);
  }

  /**
   * Stores `body` at `path`, streamed (at most the asset limit), replacing what was there. In a
   * model's tree the file is a file of that model; in the whole tree a path inside the folder of
   * one of the experiment's models joins that model, so a re-upload of a model file stays one;
   * other paths are plain assets, images by extension.
   */
  async put(
    principal: Principal,
    key: string,
    path: string,
    body: Readable,
    scope: FileTreeScope = {},
  ): Promise<Asset> {
    requireScope(principal, 'write');
    const wanted = treePath(path);
    const experiment = await this.activeExperiment(principal, key);
    let groupingName: string | null = scope.model ?? null;
    let fileName = wanted;
    if (groupingName === null) {
      const model = await this.modelHolding(experiment.id, wanted);
      if (model) {
        groupingName = model.name;
        fileName = wanted.slice(model.name.length + 1);
      }
    }
    // The same path under another model's or no model's name: replaced too (the upload itself
    // replaces its own name).
    const stale = (await this.assetsAt(experiment.id, wanted, scope)).filter(
      (asset) => asset.fileName !== fileName || asset.groupingName !== groupingName,
    );
    const asset = await this.assets.upload(
      principal,
      key,
      {
        fileName,
        type: groupingName !== null ? MODEL_ELEMENT_TYPE : isImage(fileName) ? 'image' : 'asset',
        groupingName,
        overwrite: true,
      },
      body,
    );
    for (const old of stale) await this.assets.delete(principal, key, old.id);
    return asset;
  }

  /** Deletes the file at `path`, or every file under the folder `path` ("" is the whole tree). */
  async delete(principal: Principal, key: string, path: string, scope: FileTreeScope = {}): Promise<void> {
    requireScope(principal, 'write');
    const wanted = path === '' ? '' : treePath(path);
    const experiment = await this.activeExperiment(principal, key);
    const prefix = wanted === '' ? '' : `${wanted}/`;
    for (const file of await this.treeOf(experiment.id, scope, true)) {
      if (wanted === '' || file.path === wanted || file.path.startsWith(prefix)) {
        await this.assets.delete(principal, key, file.asset.id);
      }
    }
  }

  /**
   * MLflow 2's `log_model`: the plain files under folder `path` become the files of an
   * experiment model named `path` (created when absent), so Comet's model APIs and the registry
   * see them. With `history`, `entry` is appended, in the same transaction, to the JSON list held
   * by the text value ("other") `history.name` (MLflow's `mlflow.log-model.history` tag). Returns
   * the model.
   */
  async adoptFolderAsModel(
    principal: Principal,
    key: string,
    path: string,
    history?: { name: string; entry: unknown },
  ): Promise<ExperimentModel> {
    requireScope(principal, 'write');
    const name = treePath(path);
    rules.entryName('model', name);
    return this.store.transaction(async (tx) => {
      const experiment = await this.experiments.writable(tx, principal, key);
      if (experiment.archived) throw notActive(key);
      const now = this.clock.now();
      if (history) {
        const current = (await tx.values.listCurrent(experiment.id, 'other')).find((v) => v.name === history.name);
        const entries = historyEntries(current?.text);
        entries.push(history.entry);
        await tx.values.append(experiment.id, 'other', [
          {
            name: history.name,
            type: 'string',
            text: JSON.stringify(entries),
            step: null,
            timestamp: now,
            context: null,
          },
        ]);
      }
      const model = await tx.assets.ensureModel({ id: newHexId(), experimentId: experiment.id, name, createdAt: now });
      await tx.assets.regroupUnder(experiment.id, name, name);
      await tx.experiments.update(experiment.id, { updatedAt: now });
      return model;
    });
  }

  private async activeExperiment(principal: Principal, key: string): Promise<Experiment> {
    const experiment = await this.experiments.writable(this.store, principal, key);
    if (experiment.archived) throw notActive(key);
    return experiment;
  }

  /** The experiment model whose folder holds `path` (the longest name wins), if any. */
  private async modelHolding(experimentId: string, path: string): Promise<ExperimentModel | undefined> {
    const models = await this.store.assets.listModels(experimentId);
    return models.filter((model) => path.startsWith(`${model.name}/`)).sort((a, b) => b.name.length - a.name.length)[0];
  }

  /**
   * The assets stored under exactly the name `path` has in the tree, oldest first: a plain file
   * named `path`, or a file `<rest>` of a model named by a leading part of `path`.
   */
  private async assetsAt(experimentId: string, path: string, scope: FileTreeScope): Promise<Asset[]> {
    const isModelFile = (asset: Asset) => asset.type === MODEL_ELEMENT_TYPE;
    if (scope.model !== undefined) {
      return (await this.store.assets.listSameName(experimentId, path, scope.model, null)).filter(isModelFile);
    }
    const found = await this.store.assets.listSameName(experimentId, path, null, null);
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i++) {
      const model = segments.slice(0, i).join('/');
      const rest = segments.slice(i).join('/');
      found.push(...(await this.store.assets.listSameName(experimentId, rest, model, null)).filter(isModelFile));
    }
    return found.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** `all`: every asset at a path, not only the latest (deleting a path removes every copy). */
  private async treeOf(experimentId: string, scope: FileTreeScope, all = false): Promise<TreeFile[]> {
    const assets =
      scope.model === undefined
        ? await this.store.assets.list(experimentId)
        : await this.store.assets.list(experimentId, { groupingName: scope.model, type: MODEL_ELEMENT_TYPE });
    const byPath = new Map<string, TreeFile[]>();
    for (const asset of assets) {
      if (!inTree(asset)) continue;
      const path = normalisedPath(
        scope.model === undefined && asset.groupingName && asset.type === MODEL_ELEMENT_TYPE
          ? `${asset.groupingName}/${asset.fileName}`
          : asset.fileName,
      );
      if (path === '') continue;
      const same = byPath.get(path) ?? [];
      same.push({ path, asset });
      byPath.set(path, same);
    }
    // Assets come by creation time: the last of a path is the latest upload.
    return [...byPath.values()].flatMap((same) => (all ? same : same.slice(-1)));
  }
}

/** Files with bytes in Cairn that are not part of an artifact version. */
function inTree(asset: Asset): boolean {
  return !asset.remote && asset.blobKey !== null && asset.artifactVersionId === null;
}

/**
 * A path a client names: `/`-separated segments, none empty, `.` or `..`, and no control
 * characters; a leading or trailing `/` is dropped.
 */
export function treePath(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') throw new InvalidArgumentError('a file path must not be empty');
  if (CONTROL_CHARS.test(trimmed)) throw new InvalidArgumentError('a file path must not contain control characters');
  for (const segment of trimmed.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new InvalidArgumentError(`invalid file path "${path}"`);
    }
  }
  return trimmed;
}

/**
 * Where a stored file name (any client's text) sits in a tree: both separators split, empty,
 * `.` and `..` segments are dropped, as in a zip of the files (assetArchiveEntries).
 */
function normalisedPath(fileName: string): string {
  return fileName
    .replace(/\\/g, '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.' && segment !== '..')
    .join('/');
}

/** An archived experiment is a deleted MLflow run, which takes no writes (MLflow's message). */
export function notActive(key: string): FailedPreconditionError {
  return new FailedPreconditionError(`The run ${key} must be in the 'active' state. Current state is deleted.`);
}

/** The entries of a JSON list held as text; anything else (absent, not a list) starts a new list. */
function historyEntries(text: string | undefined): unknown[] {
  if (text === undefined) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

function isImage(fileName: string): boolean {
  const dot = fileName.lastIndexOf('.');
  return dot >= 0 && IMAGE_EXTENSIONS.has(fileName.slice(dot + 1).toLowerCase());
}

import type { Clock } from './clock.port.js';
import type { Experiment, ExperimentModel, LoggedModelStatus } from './entities.js';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from './errors.js';
import type { ExperimentsService } from './experiments.service.js';
import { type FileTreeService, notActive } from './file-tree.service.js';
import { newHexId } from './ids.js';
import { type Principal, requireScope } from './principal.js';
import * as rules from './rules.js';
import type { Store } from './store.port.js';

/** A logged model with the experiment (MLflow run) it belongs to. */
export interface LoggedModelView {
  model: ExperimentModel & { loggedModelId: string };
  experiment: Experiment;
}

export interface LoggedModelInput {
  name: string;
  modelType?: string | null;
  tags?: Record<string, string>;
  params?: Record<string, string>;
}

const LOGGED_MODEL_ID = /^m-[0-9a-f]{32}$/;

/**
 * MLflow 3's logged models (docs/api/mlflow.md, "Logged model"): an experiment model of its
 * source run with an `m-<hex>` id, a status, a model type, tags, params and the step the run
 * logged it at. Its files are the model's assets. A model is read and written with the rights on
 * its run; one of another tenant is "not found".
 */
export class LoggedModelsService {
  constructor(
    private readonly store: Store,
    private readonly experiments: ExperimentsService,
    private readonly files: FileTreeService,
    private readonly clock: Clock,
  ) {}

  /**
   * Creates a logged model (status PENDING) from the run `key`: the run's experiment model of
   * that name when it is not a logged model yet (a Comet model, a 2.x `log_model` folder), else a
   * new one. A name another logged model of the run already has is "already exists": experiment
   * models are unique by name within a run.
   */
  async create(principal: Principal, key: string, input: LoggedModelInput): Promise<LoggedModelView> {
    requireScope(principal, 'write');
    const name = rules.entryName('model', input.name);
    return this.store.transaction(async (tx) => {
      const experiment = await this.experiments.writable(tx, principal, key);
      if (experiment.archived) throw notActive(key);
      const now = this.clock.now();
      const model = await tx.assets.ensureModel({ id: newHexId(), experimentId: experiment.id, name, createdAt: now });
      if (model.loggedModelId) {
        throw new AlreadyExistsError(`run ${key} already has a logged model named "${name}" (${model.loggedModelId})`);
      }
      const logged = {
        ...model,
        loggedModelId: `m-${newHexId()}`,
        status: 'LOGGED_MODEL_PENDING' as const,
        ...(input.modelType ? { modelType: input.modelType } : {}),
        tags: { ...input.tags },
        params: { ...input.params },
        updatedAt: now,
      };
      await tx.assets.updateModel(logged);
      await tx.experiments.update(experiment.id, { updatedAt: now });
      return { model: logged, experiment };
    });
  }

  /** The logged model `loggedModelId` if its run is readable; otherwise "not found". */
  async get(principal: Principal, loggedModelId: string): Promise<LoggedModelView> {
    requireScope(principal, 'read');
    const model = LOGGED_MODEL_ID.test(loggedModelId)
      ? await this.store.assets.getModelByLoggedId(loggedModelId)
      : undefined;
    if (!model?.loggedModelId) throw notFound(loggedModelId);
    try {
      const experiment = await this.experiments.readable(this.store, principal, model.experimentId);
      return { model: { ...model, loggedModelId: model.loggedModelId }, experiment };
    } catch (error) {
      if (error instanceof NotFoundError) throw notFound(loggedModelId);
      throw error;
    }
  }

  /** Sets the status (MLflow's finalize). */
  async setStatus(principal: Principal, loggedModelId: string, status: LoggedModelStatus): Promise<LoggedModelView> {
    return this.change(principal, loggedModelId, (model) => ({ ...model, status }));
  }

  /** Upserts tags. */
  async setTags(principal: Principal, loggedModelId: string, tags: Record<string, string>): Promise<LoggedModelView> {
    return this.change(principal, loggedModelId, (model) => ({ ...model, tags: { ...model.tags, ...tags } }));
  }

  /** Removes a tag; a missing key is "not found". */
  async deleteTag(principal: Principal, loggedModelId: string, key: string): Promise<LoggedModelView> {
    return this.change(principal, loggedModelId, (model) => {
      if (!model.tags || !(key in model.tags)) {
        throw new NotFoundError(`No tag with key '${key}' found for logged model ${loggedModelId}`);
      }
      const { [key]: _removed, ...tags } = model.tags;
      return { ...model, tags };
    });
  }

  /** Adds params; a param keeps its first value unless given the same one (MLflow's rule). */
  async logParams(
    principal: Principal,
    loggedModelId: string,
    params: Record<string, string>,
  ): Promise<LoggedModelView> {
    return this.change(principal, loggedModelId, (model) => {
      const current = model.params ?? {};
      for (const [key, value] of Object.entries(params)) {
        const old = current[key];
        if (old !== undefined && old !== value) {
          throw new InvalidArgumentError(
            `Changing param values is not allowed. Param with key='${key}' was already logged with value='${old}' for logged model ID='${loggedModelId}'. Attempted logging new value '${value}'.`,
          );
        }
      }
      return { ...model, params: { ...current, ...params } };
    });
  }

  /** Records the step the run `key` logged the model at (MLflow's `runs/outputs`); the model must be the run's. */
  async setStep(principal: Principal, key: string, loggedModelId: string, step: number): Promise<LoggedModelView> {
    const view = await this.get(principal, loggedModelId);
    if (view.experiment.id !== key) {
      throw new InvalidArgumentError(`logged model ${loggedModelId} was not logged by run ${key}`);
    }
    return this.change(principal, loggedModelId, (model) => ({ ...model, step }));
  }

  /** Deletes the logged model: its files, then the model itself. */
  async delete(principal: Principal, loggedModelId: string): Promise<void> {
    requireScope(principal, 'write');
    const { model, experiment } = await this.get(principal, loggedModelId);
    await this.experiments.writable(this.store, principal, experiment.id);
    await this.files.delete(principal, experiment.id, '', { model: model.name });
    await this.store.transaction(async (tx) => {
      await tx.assets.deleteModel(experiment.id, model.name);
      await tx.experiments.update(experiment.id, { updatedAt: this.clock.now() });
    });
  }

  /**
   * Logged models of the experiments of the given projects (readable ones only: the caller
   * resolves them), newest first; `name` filters exactly.
   */
  async search(
    principal: Principal,
    projectIds: readonly string[],
    options: { name?: string; offset: number; limit: number },
  ): Promise<LoggedModelView[]> {
    requireScope(principal, 'read');
    const models = await this.store.assets.listLoggedModels(projectIds, options);
    const views: LoggedModelView[] = [];
    for (const model of models) {
      const experiment = await this.store.experiments.get(model.experimentId);
      if (experiment && model.loggedModelId) {
        views.push({ model: { ...model, loggedModelId: model.loggedModelId }, experiment });
      }
    }
    return views;
  }

  private async change(
    principal: Principal,
    loggedModelId: string,
    apply: (model: ExperimentModel) => ExperimentModel,
  ): Promise<LoggedModelView> {
    requireScope(principal, 'write');
    const { experiment } = await this.get(principal, loggedModelId);
    return this.store.transaction(async (tx) => {
      const writable = await this.experiments.writable(tx, principal, experiment.id);
      const current = await tx.assets.getModelByLoggedId(loggedModelId);
      if (!current?.loggedModelId) throw notFound(loggedModelId);
      const now = this.clock.now();
      const next = { ...apply(current), loggedModelId: current.loggedModelId, updatedAt: now };
      await tx.assets.updateModel(next);
      await tx.experiments.update(writable.id, { updatedAt: now });
      return { model: next, experiment: writable };
    });
  }
}

function notFound(loggedModelId: string): NotFoundError {
  return new NotFoundError(`Logged model with ID '${loggedModelId}' not found.`);
}

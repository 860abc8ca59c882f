/**
 * Foundry resource identifiers for Cairn's own ids, derived (never stored) so they are stable and
 * reversible: a Foundry model is a Cairn project, a Foundry experiment a Cairn experiment.
 * - model:      ri.models.main.model.<project id as a UUID, 8-4-4-4-12>
 * - experiment: ri.models.main.experiment.<experiment key, as is>
 * Both match the RID pattern the official client enforces (spec §1).
 */
const MODEL_PREFIX = 'ri.models.main.model.';
const EXPERIMENT_PREFIX = 'ri.models.main.experiment.';
const MODEL_VERSION_PREFIX = 'ri.models.main.model-version.';

export function modelRid(projectId: string): string {
  return MODEL_PREFIX + asUuid(projectId);
}

/** The project id a model RID names; undefined for anything that is not one of ours. */
export function projectIdOfModelRid(rid: string): string | undefined {
  if (!rid.startsWith(MODEL_PREFIX)) return undefined;
  const hex = rid.slice(MODEL_PREFIX.length).replaceAll('-', '');
  return /^[0-9a-f]{32}$/.test(hex) ? hex : undefined;
}

export function experimentRid(experimentKey: string): string {
  return EXPERIMENT_PREFIX + experimentKey;
}

export function experimentKeyOfRid(rid: string): string | undefined {
  if (!rid.startsWith(EXPERIMENT_PREFIX)) return undefined;
  const key = rid.slice(EXPERIMENT_PREFIX.length);
  return /^[A-Za-z0-9]{1,64}$/.test(key) ? key : undefined;
}

/** A registry model version (a Comet registry "item"), for an experiment's linkedModelVersion. */
export function modelVersionRid(registryItemId: string): string {
  return MODEL_VERSION_PREFIX + (/^[0-9a-f]{32}$/.test(registryItemId) ? asUuid(registryItemId) : registryItemId);
}

function asUuid(hex: string): string {
  if (!/^[0-9a-f]{32}$/.test(hex)) return hex;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

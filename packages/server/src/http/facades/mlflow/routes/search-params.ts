import { MlflowApiError } from '../mlflow-errors.js';
import { type MlflowInput, optionalInt, optionalList } from '../mlflow-request.js';

/** MLflow's ViewType enum: which lifecycle stages a search lists. */
export const VIEW_TYPES = { ACTIVE_ONLY: 1, DELETED_ONLY: 2, ALL: 3 } as const;
/** Searches' `max_results`: MLflow's default and ceiling for experiments and runs. */
export const MAX_SEARCH_RESULTS = 50_000;
export const DEFAULT_SEARCH_RESULTS = 1000;

/** `max_results` of a search: 1 to 50,000, 1,000 when absent, with MLflow's message otherwise. */
export function maxResultsOf(input: MlflowInput): number {
  const maxResults = optionalInt(input, 'max_results') ?? DEFAULT_SEARCH_RESULTS;
  if (maxResults < 1 || maxResults > MAX_SEARCH_RESULTS) {
    throw new MlflowApiError(
      'INVALID_PARAMETER_VALUE',
      `Invalid value ${maxResults} for parameter 'max_results' supplied. It must be at most ${MAX_SEARCH_RESULTS}`,
    );
  }
  return maxResults;
}

/** `order_by` clauses as texts (each parsed by the grammar in mlflow-filter.ts). */
export function orderByOf(input: MlflowInput): string[] {
  return optionalList(input, 'order_by').map((clause, i) => {
    if (typeof clause !== 'string') throw new MlflowApiError('INVALID_PARAMETER_VALUE', `Invalid order_by[${i}].`);
    return clause;
  });
}

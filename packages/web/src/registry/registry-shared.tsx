import { Link } from 'react-router';
import { useExperimentIfAny } from '../api/registry.hooks';

/**
 * A link to the experiment a version came from. Registry answers name the experiment by key only,
 * and its page lives under its project, so the experiment is read for its project; a deleted one
 * stays a plain key.
 */
export function ExperimentLink({ experimentKey }: { experimentKey: string }) {
  const query = useExperimentIfAny(experimentKey);
  const experiment = query.data;
  if (!experiment) {
    return (
      <code title={query.data === null ? 'This experiment no longer exists' : undefined}>
        {experimentKey.slice(0, 12)}
      </code>
    );
  }
  return (
    <Link
      to={`/${encodeURIComponent(experiment.workspace)}/${encodeURIComponent(experiment.project)}/${encodeURIComponent(experiment.key)}`}
    >
      {experiment.name ?? experiment.key}
    </Link>
  );
}

import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { useExperimentIfAny } from '../api/registry.hooks';

/**
 * A filter box that writes to the URL once typing pauses (the listing is filtered on the server).
 */
export function SearchBox({
  value,
  onChange,
  label,
  placeholder = label,
  className = 'registry-search',
  type = 'search',
}: {
  value: string;
  onChange: (value: string) => void;
  label: string;
  placeholder?: string;
  className?: string;
  type?: 'search' | 'text';
}) {
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  useEffect(() => {
    if (draft === value) return;
    const timer = setTimeout(() => onChange(draft), 250);
    return () => clearTimeout(timer);
  }, [draft, value, onChange]);
  return (
    <input
      className={`input ${className}`}
      type={type}
      placeholder={placeholder}
      aria-label={label}
      data-shortcut-focus={type === 'search' ? true : undefined}
      value={draft}
      onChange={(event) => setDraft(event.target.value)}
    />
  );
}

export function PagedListFooter({
  shown,
  total,
  hasMore,
  loading,
  onMore,
  noun,
}: {
  shown: number;
  total: number | undefined;
  hasMore: boolean;
  loading: boolean;
  onMore: () => void;
  noun: string;
}) {
  return (
    <div className="toolbar list-footer">
      <span className="muted" role="status">
        {shown.toLocaleString()} of {(total ?? shown).toLocaleString()} {noun}
      </span>
      {hasMore && (
        <button type="button" className="btn btn-small" disabled={loading} onClick={onMore}>
          {loading ? 'Loading…' : 'Show more'}
        </button>
      )}
    </div>
  );
}

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

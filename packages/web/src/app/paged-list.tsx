import type { InfiniteData, UseInfiniteQueryResult } from '@tanstack/react-query';
import { type ReactNode, useEffect, useState } from 'react';
import { InlineError } from './panel';

/** The pages of a paged listing (the SDK's cursor pages), as one list and the total of the first page. */
export function pagedItems<T>(data: InfiniteData<{ items: T[]; total: number | undefined }> | undefined): {
  items: T[];
  total: number | undefined;
} {
  return { items: data?.pages.flatMap((page) => page.items) ?? [], total: data?.pages[0]?.total };
}

/**
 * The states of a paged listing before it has rows to show: its error with a retry, loading, or
 * the empty message; else its rows.
 */
export function PagedListView({
  query,
  count,
  empty,
  children,
}: {
  query: Pick<UseInfiniteQueryResult, 'isError' | 'isPending' | 'error' | 'refetch'>;
  count: number;
  empty: ReactNode;
  children: ReactNode;
}) {
  if (query.isError) return <InlineError error={query.error} onRetry={() => void query.refetch()} />;
  if (query.isPending) {
    return (
      <div className="muted" role="status">
        Loading…
      </div>
    );
  }
  if (count === 0) return <p className="muted">{empty}</p>;
  return <>{children}</>;
}

/**
 * A filter box that writes to the URL once typing pauses (the listing is filtered on the server):
 * the box follows typing at once, the server is asked once.
 */
export function SearchBox({
  value,
  onChange,
  label,
  placeholder = label,
  className,
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
      className={className ? `input ${className}` : 'input'}
      type={type}
      placeholder={placeholder}
      aria-label={label}
      data-shortcut-focus={type === 'search' ? true : undefined}
      value={draft}
      onChange={(event) => setDraft(event.target.value)}
    />
  );
}

/** How much of a paged listing is shown, and the button that loads its next page. */
export function PagedListFooter({
  shown,
  total,
  query,
  noun,
}: {
  shown: number;
  total: number | undefined;
  query: Pick<UseInfiniteQueryResult, 'hasNextPage' | 'isFetchingNextPage' | 'fetchNextPage'>;
  noun: string;
}) {
  return (
    <div className="toolbar list-footer">
      <span className="muted" role="status">
        {shown.toLocaleString()} of {(total ?? shown).toLocaleString()} {noun}
      </span>
      {query.hasNextPage && (
        <button
          type="button"
          className="btn btn-small"
          disabled={query.isFetchingNextPage}
          onClick={() => void query.fetchNextPage()}
        >
          {query.isFetchingNextPage ? 'Loading…' : 'Show more'}
        </button>
      )}
    </div>
  );
}

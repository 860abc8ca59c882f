import { useCallback } from 'react';
import { type OutputFilter, useOutput } from '../api/experiment.hooks';
import { PagedListView, pagedItems, SearchBox } from '../app/paged-list';
import { useUrlParam } from '../app/url-state';
import type { TabProps } from './experiment.page';
import { VirtualLines } from './virtual-lines';

/**
 * stdout and stderr lines in arrival order, numbered by their `seq` (their place in the whole
 * output, whatever the filter). Search and the stream filter run on the server; pages of lines
 * load as the list scrolls near its end. New lines are not announced live (docs/api/cairn.md), so
 * Reload reads them.
 */
export function OutputTab({ experimentKey }: TabProps) {
  const [search, setSearch] = useUrlParam('q');
  const [stream, setStream] = useUrlParam('stream');
  const filter: OutputFilter = {
    ...(stream === 'stdout' || stream === 'stderr' ? { stream } : {}),
    ...(search ? { search } : {}),
  };
  const query = useOutput(experimentKey, filter);
  const { items: lines, total } = pagedItems(query.data);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = query;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  return (
    <div className="output-tab">
      <div className="toolbar">
        <SearchBox value={search} onChange={setSearch} label="Search output" />
        <select
          className="input"
          aria-label="Stream"
          value={stream}
          onChange={(event) => setStream(event.target.value, { push: true })}
        >
          <option value="">stdout and stderr</option>
          <option value="stdout">stdout only</option>
          <option value="stderr">stderr only</option>
        </select>
        <button type="button" className="btn btn-small" onClick={() => void query.refetch()}>
          Reload
        </button>
        <span className="muted" role="status">
          {total === undefined ? '' : `${total.toLocaleString()} ${total === 1 ? 'line' : 'lines'}`}
          {query.isFetching && ' · loading…'}
        </span>
      </div>
      <PagedListView
        query={query}
        count={lines.length}
        empty={search || stream ? 'No lines match.' : 'No output was logged.'}
      >
        <VirtualLines
          label="Output"
          className="output-lines"
          count={lines.length}
          onNearEnd={loadMore}
          resetKey={`${stream}\n${search}`}
          renderLine={(index) => {
            const line = lines[index];
            if (!line) return null;
            return (
              <div className={line.stderr ? 'output-line stderr' : 'output-line'} data-seq={line.seq}>
                <span className="line-number" aria-hidden="true">
                  {line.seq}
                </span>
                {line.stderr && <span className="visually-hidden">stderr: </span>}
                <span className="line-text">{line.text}</span>
              </div>
            );
          }}
        />
      </PagedListView>
    </div>
  );
}

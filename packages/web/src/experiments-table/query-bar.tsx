import type { KeySource } from '@cairn/sdk';
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { useKeyCatalogue } from '../api/experiment-table.hooks';
import { ATTRIBUTES, catalogueColumn, METRIC_AGGREGATES, metricColumn, quoteName } from './column-ids';
import { applySuggestion, type SuggestContext, type Suggestion, suggest, suggestContext } from './query-suggest';

const PREFIX_SOURCES: Record<string, KeySource> = {
  params: 'param',
  metrics: 'metric',
  others: 'other',
  system: 'system',
};

/** Which catalogue names to ask for while a column is typed: `params.l` → params containing `l`. */
function catalogueSearch(word: string): { source?: KeySource; search: string } {
  const dot = word.indexOf('.');
  const source = dot > 0 ? PREFIX_SOURCES[word.slice(0, dot).toLowerCase()] : undefined;
  if (source) return { source, search: word.slice(dot + 1).replace(/`/g, '') };
  return { search: word.replace(/`/g, '') };
}

/** Where the filter's error points: `invalid filter at position 21: …` (1-based). */
export function errorPosition(message: string): number | null {
  const match = /position (\d+)/.exec(message);
  return match?.[1] ? Number(match[1]) : null;
}

/**
 * The query bar: the Cairn query language, applied on Enter. Suggests columns (from the project's
 * key catalogue), operators and keywords as a listbox driven by ↑ ↓ Enter Esc.
 */
export function QueryBar({
  workspace,
  project,
  value,
  onApply,
  error,
}: {
  workspace: string;
  project: string;
  value: string;
  onApply(filter: string): void;
  error: string | null;
}) {
  const [text, setText] = useState(value);
  const [caret, setCaret] = useState(value.length);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const inputRef = useRef<HTMLInputElement>(null);
  const listId = useId();
  useEffect(() => setText(value), [value]);

  const context: SuggestContext = useMemo(() => suggestContext(text, caret), [text, caret]);
  const [search, setSearch] = useState(catalogueSearch(''));
  useEffect(() => {
    const timer = setTimeout(() => setSearch(catalogueSearch(context.expect === 'column' ? context.word : '')), 150);
    return () => clearTimeout(timer);
  }, [context.expect, context.word]);
  const catalogue = useKeyCatalogue(workspace, project, search.search, search.source);
  const columns = useMemo(() => {
    const ids: string[] = [...ATTRIBUTES];
    for (const page of catalogue.data?.pages ?? []) {
      for (const key of page.items) {
        if (key.source === 'metric') {
          // `metrics.loss` is the last value; min and max spelled out.
          ids.push(`metrics.${quoteName(key.name, { metric: true })}`);
          for (const aggregate of METRIC_AGGREGATES.slice(1)) ids.push(metricColumn(key.name, aggregate));
        } else {
          const id = catalogueColumn(key.source, key.name);
          if (id) ids.push(id);
        }
      }
    }
    return ids;
  }, [catalogue.data]);
  const items = useMemo(() => (open ? suggest(context, columns, 40) : []), [open, context, columns]);
  const showList = open && items.length > 0;
  // A new word starts from the first suggestion.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the reset is keyed on the word, not read from it.
  useEffect(() => setActive(0), [context.from, context.word, context.expect]);

  const choose = (suggestion: Suggestion) => {
    const next = applySuggestion(text, context, suggestion);
    setText(next.text);
    setCaret(next.caret);
    requestAnimationFrame(() => inputRef.current?.setSelectionRange(next.caret, next.caret));
  };
  const position = error ? errorPosition(error) : null;

  return (
    <div className="query-bar">
      <div className="query-input-row">
        <input
          ref={inputRef}
          className="input query-input mono"
          role="combobox"
          aria-label="Filter experiments"
          aria-expanded={showList}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={showList ? `${listId}-${active}` : undefined}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${listId}-error` : undefined}
          data-shortcut-focus
          spellCheck={false}
          autoComplete="off"
          placeholder="Filter: params.lr < 0.1 and metrics.loss.min <= 0.2   ( / )"
          value={text}
          onChange={(event) => {
            setText(event.target.value);
            setCaret(event.target.selectionStart ?? event.target.value.length);
            setOpen(true);
          }}
          onSelect={(event) => setCaret(event.currentTarget.selectionStart ?? 0)}
          onBlur={() => setOpen(false)}
          onKeyDown={(event) => {
            if (event.key === 'ArrowDown' && !open) {
              event.preventDefault();
              setOpen(true);
            } else if (event.key === 'ArrowDown' && showList) {
              event.preventDefault();
              setActive((index) => (index + 1) % items.length);
            } else if (event.key === 'ArrowUp' && showList) {
              event.preventDefault();
              setActive((index) => (index - 1 + items.length) % items.length);
            } else if (event.key === 'Enter') {
              event.preventDefault();
              const chosen = showList ? items[active] : undefined;
              if (chosen) choose(chosen);
              else {
                setOpen(false);
                onApply(text.trim());
              }
            } else if (event.key === 'Escape') {
              if (showList) {
                event.preventDefault();
                setOpen(false);
              } else inputRef.current?.blur();
            } else if (event.key === 'Tab' && showList && context.word) {
              const chosen = items[active];
              if (chosen) {
                event.preventDefault();
                choose(chosen);
              }
            }
          }}
        />
        {text !== value && <span className="muted query-hint">↵ to apply</span>}
        {value && (
          <button
            type="button"
            className="btn btn-small"
            onClick={() => {
              setText('');
              onApply('');
            }}
          >
            Clear
          </button>
        )}
      </div>
      {showList && (
        <div className="query-suggestions" role="listbox" id={listId} aria-label="Suggestions">
          {items.map((item, index) => (
            <div
              key={`${item.kind}:${item.label}`}
              id={`${listId}-${index}`}
              role="option"
              tabIndex={-1}
              aria-selected={index === active}
              className={index === active ? 'active' : ''}
              // mousedown, not click: the input keeps focus, so the list does not close first.
              onMouseDown={(event) => {
                event.preventDefault();
                choose(item);
              }}
            >
              <span className="mono">{item.label}</span>
              <span className="muted query-kind">{item.kind}</span>
            </div>
          ))}
        </div>
      )}
      {error && (
        <div className="query-error" role="alert" id={`${listId}-error`}>
          <span>{error}</span>
          {position !== null && value && (
            <code className="query-error-where">
              {value.slice(0, position - 1)}
              <mark>{value.slice(position - 1, position) || ' '}</mark>
              {value.slice(position)}
            </code>
          )}
        </div>
      )}
    </div>
  );
}

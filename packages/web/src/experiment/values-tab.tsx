import type { LoggedValue } from '@cairn/sdk';
import { useMemo, useState } from 'react';
import { useLoggedValues } from '../api/experiment.hooks';
import { QueryView } from '../app/panel';
import { useUrlParam } from '../app/url-state';
import type { TabProps } from './experiment.page';
import { formatValue } from './format';
import { buildTree, countLeaves, type TreeNode, visibleRows } from './value-tree';

function matches(value: LoggedValue, search: string): boolean {
  const needle = search.toLowerCase();
  return value.name.toLowerCase().includes(needle) || formatValue(value.value).toLowerCase().includes(needle);
}

/** Parameters or others as a tree by ".", searchable, with each value's type and step. */
export function ValuesTab({ experimentKey, kind }: TabProps & { kind: 'params' | 'others' }) {
  const query = useLoggedValues(experimentKey, kind);
  const [search, setSearch] = useUrlParam('q');
  const noun = kind === 'params' ? 'parameters' : 'others';
  return (
    <div className="values-tab">
      <div className="toolbar">
        <input
          className="input"
          type="search"
          placeholder={`Search ${noun}`}
          aria-label={`Search ${noun}`}
          data-shortcut-focus
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
      </div>
      <QueryView query={query}>
        {(values) =>
          values.length === 0 ? (
            <p className="muted">No {noun} were logged.</p>
          ) : (
            <ValueTree values={search ? values.filter((v) => matches(v, search)) : values} noun={noun} />
          )
        }
      </QueryView>
    </div>
  );
}

function ValueTree({ values, noun }: { values: LoggedValue[]; noun: string }) {
  const tree = useMemo(() => buildTree(values), [values]);
  const [collapsed, setCollapsed] = useState<Set<string>>(() => new Set());
  const rows = visibleRows(tree, collapsed);
  const groups = useMemo(() => {
    const paths: string[] = [];
    const walk = (nodes: TreeNode[]) => {
      for (const n of nodes) {
        if (n.children.length > 0) {
          paths.push(n.path);
          walk(n.children);
        }
      }
    };
    walk(tree);
    return paths;
  }, [tree]);
  if (values.length === 0) return <p className="muted">No {noun} match.</p>;
  const toggle = (path: string) =>
    setCollapsed((current) => {
      const next = new Set(current);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });
  return (
    <>
      {groups.length > 0 && (
        <div className="toolbar">
          <button type="button" className="btn btn-small" onClick={() => setCollapsed(new Set())}>
            Expand all
          </button>
          <button type="button" className="btn btn-small" onClick={() => setCollapsed(new Set(groups))}>
            Collapse all
          </button>
          <span className="muted">
            {values.length} {noun}
          </span>
        </div>
      )}
      <table className="simple values-table" aria-label={noun}>
        <thead>
          <tr>
            <th>Name</th>
            <th>Value</th>
            <th>Type</th>
            <th>Step</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ node, depth }) => {
            const group = node.children.length > 0;
            const open = !collapsed.has(node.path);
            return (
              <tr key={`${node.path}${group ? '/' : ''}`} className={group ? 'tree-group' : undefined}>
                <td style={{ paddingLeft: 10 + depth * 18 }} className="tree-name">
                  {group ? (
                    <button
                      type="button"
                      className="tree-toggle"
                      aria-expanded={open}
                      onClick={() => toggle(node.path)}
                      title={node.path}
                    >
                      <span aria-hidden="true">{open ? '▾' : '▸'}</span> {node.label}
                      <span className="muted"> ({countLeaves(node)})</span>
                    </button>
                  ) : (
                    <span title={node.value?.name}>{node.label}</span>
                  )}
                </td>
                <td className="mono value-cell" data-name={node.value?.name}>
                  {node.value ? formatValue(node.value.value) : ''}
                </td>
                <td className="muted">{node.value?.type ?? ''}</td>
                <td className="muted">{node.value?.step ?? ''}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

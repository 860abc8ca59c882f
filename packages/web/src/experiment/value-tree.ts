import type { LoggedValue } from '@cairn/sdk';

/** A node of the name tree: names split at "."; a leaf carries the logged value. */
export interface TreeNode {
  path: string;
  label: string;
  value: LoggedValue | null;
  children: TreeNode[];
}

export function buildTree(values: LoggedValue[]): TreeNode[] {
  const root: TreeNode = { path: '', label: '', value: null, children: [] };
  for (const value of values) {
    const parts = value.name.split('.');
    let node = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const label = parts[i] ?? '';
      // Groups hold no value: a name that is also a prefix ("opt" and "opt.lr") is a leaf beside its group.
      let group = node.children.find((c) => c.value === null && c.label === label);
      if (!group) {
        group = { path: parts.slice(0, i + 1).join('.'), label, value: null, children: [] };
        node.children.push(group);
      }
      node = group;
    }
    node.children.push({ path: value.name, label: parts[parts.length - 1] ?? '', value, children: [] });
  }
  return root.children;
}

/** The rows shown: groups and leaves in order, with their depth. Collapsed groups hide their rows. */
export function visibleRows(nodes: TreeNode[], collapsed: Set<string>, depth = 0): { node: TreeNode; depth: number }[] {
  const rows: { node: TreeNode; depth: number }[] = [];
  for (const node of nodes) {
    rows.push({ node, depth });
    if (node.children.length > 0 && !collapsed.has(node.path)) {
      rows.push(...visibleRows(node.children, collapsed, depth + 1));
    }
  }
  return rows;
}

export function countLeaves(node: TreeNode): number {
  return (node.value ? 1 : 0) + node.children.reduce((sum, c) => sum + countLeaves(c), 0);
}

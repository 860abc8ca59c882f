import type { LoggedValue } from '@cairn/sdk';
import { describe, expect, it } from 'vitest';
import { buildTree, countLeaves, visibleRows } from './value-tree';

const value = (name: string, v: number | string = 1): LoggedValue => ({
  name,
  value: v,
  type: typeof v === 'number' ? 'number' : 'string',
  step: null,
  timestamp: 0,
  context: null,
});

describe('the name tree of parameters', () => {
  it('nests names by "." and keeps a name that is also a prefix as a leaf beside its group', () => {
    const tree = buildTree([
      value('lr'),
      value('opt'),
      value('opt.name', 'adam'),
      value('opt.betas.b1'),
      value('opt.betas.b2'),
    ]);
    expect(tree.map((n) => [n.label, n.value?.name ?? null, n.children.length])).toEqual([
      ['lr', 'lr', 0],
      ['opt', 'opt', 0],
      ['opt', null, 2],
    ]);
    const group = tree[2];
    expect(group?.path).toBe('opt');
    expect(group && countLeaves(group)).toBe(3);
    expect(group?.children.map((c) => c.path)).toEqual(['opt.name', 'opt.betas']);
  });

  it('hides the rows of collapsed groups and gives each row its depth', () => {
    const tree = buildTree([value('a.b.c'), value('a.d'), value('e')]);
    const all = visibleRows(tree, new Set());
    expect(all.map((r) => `${r.depth}:${r.node.path}`)).toEqual(['0:a', '1:a.b', '2:a.b.c', '1:a.d', '0:e']);
    const collapsed = visibleRows(tree, new Set(['a.b']));
    expect(collapsed.map((r) => r.node.path)).toEqual(['a', 'a.b', 'a.d', 'e']);
  });
});

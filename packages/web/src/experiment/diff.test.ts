import { describe, expect, it } from 'vitest';
import { classifyDiff } from './diff';

describe('classifyDiff', () => {
  it('tells file headers, hunks, added, removed and context lines apart', () => {
    const patch = [
      'diff --git a/x.py b/x.py',
      'index 1..2 100644',
      '--- a/x.py',
      '+++ b/x.py',
      '@@ -1,2 +1,2 @@',
      ' keep',
      '-old',
      '+new',
      '--- not a header inside a hunk',
      '',
    ].join('\n');
    expect(classifyDiff(patch).map((l) => l.kind)).toEqual([
      'file',
      'meta',
      'file',
      'file',
      'hunk',
      'context',
      'del',
      'add',
      'del',
    ]);
  });
});

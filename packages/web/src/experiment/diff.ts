export type DiffLineKind = 'file' | 'meta' | 'hunk' | 'add' | 'del' | 'context';

/** Classifies each line of a unified diff (as `git diff` writes it). */
export function classifyDiff(patch: string): { text: string; kind: DiffLineKind }[] {
  const lines = patch.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  let inHunk = false;
  return lines.map((text) => {
    if (text.startsWith('diff --git ') || text.startsWith('Index: ')) {
      inHunk = false;
      return { text, kind: 'file' };
    }
    if (text.startsWith('@@')) {
      inHunk = true;
      return { text, kind: 'hunk' };
    }
    if (!inHunk) return { text, kind: text.startsWith('--- ') || text.startsWith('+++ ') ? 'file' : 'meta' };
    if (text.startsWith('+')) return { text, kind: 'add' };
    if (text.startsWith('-')) return { text, kind: 'del' };
    return { text, kind: 'context' };
  });
}

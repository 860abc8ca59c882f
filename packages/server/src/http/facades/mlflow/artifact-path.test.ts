import { describe, expect, it } from 'vitest';
import { assertSafePath, parseArtifactPath } from './artifact-path.js';

describe('artifact paths', () => {
  it('names a run’s files and a logged model’s files', () => {
    expect(parseArtifactPath('0/abc/artifacts/plots/a.png')).toEqual({
      kind: 'run',
      experimentId: '0',
      runId: 'abc',
      path: 'plots/a.png',
    });
    expect(parseArtifactPath('0/abc/artifacts')).toEqual({ kind: 'run', experimentId: '0', runId: 'abc', path: '' });
    expect(parseArtifactPath('7/models/m-1/artifacts/MLmodel')).toEqual({
      kind: 'model',
      experimentId: '7',
      loggedModelId: 'm-1',
      path: 'MLmodel',
    });
    // A run whose id is "models" is still a run when its third segment is "artifacts".
    expect(parseArtifactPath('7/models/artifacts/x')).toMatchObject({ kind: 'run', runId: 'models', path: 'x' });
  });

  it('names nothing above a run’s or a model’s root', () => {
    for (const path of ['', '0', '0/abc', '0/abc/other/x', '0/models/m-1', '0/models/m-1/files/x']) {
      expect(parseArtifactPath(path), path).toBeUndefined();
    }
  });

  it('refuses traversal, absolute paths, fragments and control characters', () => {
    for (const path of [
      'a/../b',
      '..',
      'a/%2e%2e/b',
      'a%2F..%2Fb',
      '/etc/passwd',
      '\\x',
      'C:\\x',
      'a#b',
      'a\u0000b',
      'a%00b',
    ]) {
      expect(() => assertSafePath(path), path).toThrow('Invalid path');
    }
    for (const path of ['', 'a/b.txt', 'a/..b/c', 'dots.../x', 'a b/c%20d', '50%.txt', '%zz']) {
      expect(() => assertSafePath(path), path).not.toThrow();
    }
  });
});

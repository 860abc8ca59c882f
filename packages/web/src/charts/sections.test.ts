import { describe, expect, it } from 'vitest';
import { filterMetricNames, groupSections, metricMatcher } from './sections';

describe('groupSections', () => {
  it('groups by the text before the first slash, dotted names only when two share the head', () => {
    const sections = groupSections([
      'val/loss',
      'train/loss',
      'train/acc/top1',
      'sys.gpu.0.util',
      'sys.cpu.util',
      'lr',
      'loss.ema',
      '/odd',
    ]);
    expect(sections).toEqual([
      { name: 'Charts', metrics: ['/odd', 'loss.ema', 'lr'] },
      { name: 'sys', metrics: ['sys.cpu.util', 'sys.gpu.0.util'] },
      { name: 'train', metrics: ['train/acc/top1', 'train/loss'] },
      { name: 'val', metrics: ['val/loss'] },
    ]);
  });

  it('is empty for no names', () => {
    expect(groupSections([])).toEqual([]);
  });
});

describe('metricMatcher', () => {
  it('matches a regular expression ignoring case, or a substring while the text is no expression', () => {
    const regex = metricMatcher('^train/.*LOSS$');
    expect(regex('train/loss')).toBe(true);
    expect(regex('val/loss')).toBe(false);
    const broken = metricMatcher('loss(');
    expect(broken('train/loss(ema)')).toBe(true);
    expect(broken('train/loss')).toBe(false);
    expect(metricMatcher('  ')('anything')).toBe(true);
  });
});

describe('filterMetricNames', () => {
  it('keeps a prefix, drops an excluded one, and lists each name once in order', () => {
    expect(filterMetricNames(['sys.gpu', 'loss', 'sys.cpu', 'loss'], { exclude: 'sys.' })).toEqual(['loss']);
    expect(filterMetricNames(['sys.gpu', 'loss', 'sys.cpu'], { prefix: 'sys.' })).toEqual(['sys.cpu', 'sys.gpu']);
  });
});

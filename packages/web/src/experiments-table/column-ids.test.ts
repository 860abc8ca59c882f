import { describe, expect, it } from 'vitest';
import { catalogueColumn, keysFilter, parseColumn, quoteName, splitColumns } from './column-ids';

describe('column ids', () => {
  it('backquotes names the language cannot read bare', () => {
    expect(quoteName('lr')).toBe('lr');
    expect(quoteName('optimizer.name')).toBe('optimizer.name');
    expect(quoteName('learning rate')).toBe('`learning rate`');
    expect(quoteName('a`b\\c')).toBe('`a\\`b\\\\c`');
    expect(catalogueColumn('metric', 'loss.max', 'min')).toBe('metrics.`loss.max`.min');
    expect(catalogueColumn('metric', 'loss', 'max')).toBe('metrics.loss.max');
    expect(catalogueColumn('tag', 'x')).toBeNull();
  });

  it('reads ids back', () => {
    expect(parseColumn('metrics.`loss.max`.min')).toEqual({ kind: 'metric', name: 'loss.max', aggregate: 'min' });
    expect(parseColumn('metrics.acc')).toEqual({ kind: 'metric', name: 'acc', aggregate: 'last' });
    expect(parseColumn('params.`learning rate`')).toEqual({ kind: 'param', name: 'learning rate' });
    expect(parseColumn('startTime')).toEqual({ kind: 'attribute', name: 'startTime' });
  });

  it('splits the cols parameter outside backquotes only', () => {
    expect(splitColumns('name,params.`a,b`,metrics.loss.min')).toEqual(['name', 'params.`a,b`', 'metrics.loss.min']);
  });

  it('quotes keys in a filter', () => {
    expect(keysFilter(['a', "b'c"])).toBe("key = 'a' or key = 'b\\'c'");
  });
});

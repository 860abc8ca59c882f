import { describe, expect, it } from 'vitest';
import { applySuggestion, suggest, suggestContext } from './query-suggest';

const columns = ['params.lr', 'params.batch', 'metrics.loss.min', 'name', 'status'];

function at(text: string) {
  return suggestContext(text, text.length);
}

describe('query bar suggestions', () => {
  it('offers columns at the start and after and/or/not/(', () => {
    expect(at('').expect).toBe('column');
    expect(at('params.lr < 0.1 and ').expect).toBe('column');
    expect(at('not (').expect).toBe('column');
    const context = at('par');
    expect(context).toMatchObject({ word: 'par', from: 0, to: 3 });
    expect(suggest(context, columns).map((s) => s.label)).toEqual(['params.lr', 'params.batch']);
  });

  it('offers operators after a column, keywords after a value', () => {
    expect(at('params.lr ').expect).toBe('operator');
    expect(suggest(at('params.lr <'), columns).map((s) => s.label)).toEqual(['<', '<=']);
    expect(suggest(at('name st'), columns).map((s) => s.label)).toEqual(['startswith']);
    expect(at("name = 'x' ").expect).toBe('connective');
    expect(suggest(at("name = 'x' o"), columns).map((s) => s.label)).toEqual(['or']);
    expect(suggest(at("name = 'x' "), columns)).toEqual([]);
    expect(at('params.lr is ').expect).toBe('null');
    expect(at('params.lr is not null ').expect).toBe('connective');
  });

  it('reads between … and … as one test', () => {
    expect(at('params.lr between 1 ').expect).toBe('between-and');
    expect(at('params.lr between 1 and ').expect).toBe('value');
    expect(at('params.lr between 1 and 2 ').expect).toBe('connective');
  });

  it('skips strings and backquoted names', () => {
    expect(at("name = 'a and b' ").expect).toBe('connective');
    expect(at('params.`learning rate` ').expect).toBe('operator');
  });

  it('replaces the word being typed, also in the middle of the text', () => {
    const text = 'params.l < 1';
    const context = suggestContext(text, 8);
    expect(context).toMatchObject({ from: 0, to: 8, word: 'params.l' });
    const applied = applySuggestion(text, context, { label: 'params.lr', insert: 'params.lr', kind: 'column' });
    expect(applied).toEqual({ text: 'params.lr < 1', caret: 10 });
  });
});

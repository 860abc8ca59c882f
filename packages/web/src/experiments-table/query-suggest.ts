/**
 * Autocomplete of the query bar: reads the filter up to the caret with the grammar of
 * docs/api/cairn.md ("Query language") just far enough to know what may come next — a column,
 * an operator, a value or `and`/`or` — and offers what fits the word being typed.
 */

export type Expect = 'column' | 'operator' | 'null' | 'value' | 'between-and' | 'connective';

export interface SuggestContext {
  /** The word being typed: [from, to) of the text is replaced by a chosen suggestion. */
  from: number;
  to: number;
  word: string;
  expect: Expect;
}

export interface Suggestion {
  label: string;
  insert: string;
  kind: 'column' | 'operator' | 'keyword';
}

const OPERATOR_CHARS = /[=!<>]/;
const SPACE = /\s/;
const COMPARISONS = new Set(['=', '!=', '<', '<=', '>', '>=']);
const TEXT_OPERATORS = new Set(['contains', 'startswith', 'endswith']);

type Token = { kind: 'open' | 'close' | 'op' | 'string' | 'word'; text: string };

/** Reads a backquoted part starting at `start` (a backquote); answers the index after it. */
function skipBackquoted(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '`') i += text[i] === '\\' ? 2 : 1;
  return Math.min(i + 1, text.length);
}

function isWordChar(char: string): boolean {
  return (
    !SPACE.test(char) && char !== '(' && char !== ')' && char !== "'" && char !== '"' && !OPERATOR_CHARS.test(char)
  );
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] ?? '';
    if (SPACE.test(char)) {
      i++;
    } else if (char === '(' || char === ')') {
      tokens.push({ kind: char === '(' ? 'open' : 'close', text: char });
      i++;
    } else if (char === "'" || char === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== char) j += text[j] === '\\' ? 2 : 1;
      tokens.push({ kind: 'string', text: text.slice(i, j + 1) });
      i = j + 1;
    } else if (OPERATOR_CHARS.test(char)) {
      let j = i;
      while (j < text.length && OPERATOR_CHARS.test(text[j] ?? '')) j++;
      tokens.push({ kind: 'op', text: text.slice(i, j) });
      i = j;
    } else {
      let j = i;
      while (j < text.length && isWordChar(text[j] ?? '')) j = text[j] === '`' ? skipBackquoted(text, j) : j + 1;
      tokens.push({ kind: 'word', text: text.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

/** What the grammar expects after these complete tokens. */
function expectAfter(tokens: Token[]): Expect {
  let expect: Expect = 'column';
  let between = false;
  for (const token of tokens) {
    const word = token.kind === 'word' ? token.text.toLowerCase() : '';
    switch (expect) {
      case 'column':
        if (token.kind === 'open' || word === 'not') expect = 'column';
        else if (token.kind === 'word') expect = 'operator';
        break;
      case 'operator':
        if ((token.kind === 'op' && COMPARISONS.has(token.text)) || TEXT_OPERATORS.has(word)) expect = 'value';
        else if (word === 'between') {
          between = true;
          expect = 'value';
        } else if (word === 'is') expect = 'null';
        else if (word !== 'not') expect = 'connective';
        break;
      case 'null':
        if (word === 'null') expect = 'connective';
        else if (word !== 'not') expect = 'connective';
        break;
      case 'value':
        expect = between ? 'between-and' : 'connective';
        between = false;
        break;
      case 'between-and':
        expect = word === 'and' ? 'value' : 'connective';
        break;
      case 'connective':
        if (word === 'and' || word === 'or') expect = 'column';
        break;
    }
  }
  return expect;
}

/** Where the caret is in the grammar, and the word around it. */
export function suggestContext(text: string, caret: number): SuggestContext {
  const before = text.slice(0, caret);
  const tokens = tokenize(before);
  const last = tokens.at(-1);
  // The caret touching the end of a word or operator means that token is still being typed.
  const typing =
    last && (last.kind === 'word' || last.kind === 'op') && before.endsWith(last.text) && !/\s$/.test(before);
  const complete = typing ? tokens.slice(0, -1) : tokens;
  const word = typing && last ? last.text : '';
  const from = caret - word.length;
  let to = caret;
  if (typing && last?.kind === 'word') while (to < text.length && isWordChar(text[to] ?? '')) to++;
  if (typing && last?.kind === 'op') while (to < text.length && OPERATOR_CHARS.test(text[to] ?? '')) to++;
  return { from, to, word, expect: expectAfter(complete) };
}

const OPERATOR_SUGGESTIONS: Suggestion[] = [
  ...['=', '!=', '<', '<=', '>', '>='].map((op) => ({ label: op, insert: op, kind: 'operator' as const })),
  ...['contains', 'startswith', 'endswith', 'not contains'].map((op) => ({
    label: op,
    insert: op,
    kind: 'operator' as const,
  })),
  { label: 'between … and …', insert: 'between', kind: 'operator' },
  { label: 'is null', insert: 'is null', kind: 'operator' },
  { label: 'is not null', insert: 'is not null', kind: 'operator' },
];

function keywords(...words: string[]): Suggestion[] {
  return words.map((word) => ({ label: word, insert: word, kind: 'keyword' }));
}

/** The suggestions for a context, columns drawn from `columns` (best matches first), at most `limit`. */
export function suggest(context: SuggestContext, columns: readonly string[], limit = 50): Suggestion[] {
  const word = context.word.toLowerCase();
  const starts = (label: string) => label.toLowerCase().startsWith(word);
  switch (context.expect) {
    case 'column': {
      const matching = columns.filter((column) => column.toLowerCase().includes(word));
      // Prefix matches first, then the rest in the catalogue's order.
      matching.sort((a, b) => Number(!starts(a)) - Number(!starts(b)));
      const columnItems: Suggestion[] = matching.map((column) => ({ label: column, insert: column, kind: 'column' }));
      return [...keywords('not').filter((k) => word && starts(k.label)), ...columnItems].slice(0, limit);
    }
    case 'operator':
      return OPERATOR_SUGGESTIONS.filter((s) => starts(s.insert) || starts(s.label));
    case 'null':
      return keywords('null', 'not null').filter((s) => starts(s.label));
    case 'between-and':
      return keywords('and').filter((s) => starts(s.label));
    case 'connective':
      // Only once a letter is typed: after a complete test the list would cover the page for nothing.
      return word ? keywords('and', 'or').filter((s) => starts(s.label)) : [];
    case 'value':
      return [];
  }
}

/** The text after choosing a suggestion, and where the caret goes. */
export function applySuggestion(
  text: string,
  context: SuggestContext,
  suggestion: Suggestion,
): { text: string; caret: number } {
  const after = text.slice(context.to);
  const insert = `${suggestion.insert} `;
  const rest = after.startsWith(' ') ? after.slice(1) : after;
  return { text: text.slice(0, context.from) + insert + rest, caret: context.from + insert.length };
}

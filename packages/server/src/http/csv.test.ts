import { describe, expect, it } from 'vitest';
import { csvRecord, readCsv, spreadsheetSafe } from './csv.js';

const csv = (text: string) => readCsv(Buffer.from(text));

describe('readCsv', () => {
  it('infers integer, double, boolean and string columns from the non-empty cells', () => {
    const table = csv(
      'i,d,b,s,nan,big\n1,1,true,1,nan,9007199254740991\n-2,2.5,False,x,-Inf,1\n+3,.5e-3,TRUE,,Infinity,\n',
    );
    expect(table.columns.map((c) => c.type)).toEqual(['integer', 'double', 'boolean', 'string', 'double', 'integer']);
    expect(table.rows).toEqual([
      [1, 1, true, '1', Number.NaN, 9_007_199_254_740_991],
      [-2, 2.5, false, 'x', Number.NEGATIVE_INFINITY, 1],
      [3, 0.0005, true, null, Number.POSITIVE_INFINITY, null],
    ]);
  });

  it('keeps integer-looking cells beyond ±(2^53−1) as strings rather than lose digits', () => {
    const table = csv('id\n12345678901234567890\n1\n');
    expect(table.columns).toEqual([{ name: 'id', type: 'string' }]);
    expect(table.rows).toEqual([['12345678901234567890'], ['1']]);
  });

  it('tells a quoted empty string from a missing value only in string columns', () => {
    const table = csv('s,n\n"",""\n,\n"a",1\n');
    expect(table.columns.map((c) => c.type)).toEqual(['string', 'integer']);
    expect(table.rows).toEqual([
      ['', null],
      [null, null],
      ['a', 1],
    ]);
  });

  it('gives a column with no values the string type and a header alone no rows', () => {
    expect(csv('a,b\n,\n')).toEqual({
      columns: [
        { name: 'a', type: 'string' },
        { name: 'b', type: 'string' },
      ],
      rows: [[null, null]],
    });
    expect(csv('a,b')).toEqual({
      columns: [
        { name: 'a', type: 'string' },
        { name: 'b', type: 'string' },
      ],
      rows: [],
    });
  });

  it('skips blank lines in wide tables and reads them as nulls in one-column tables', () => {
    expect(csv('a,b\n1,2\n\n3,4\n\n').rows).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(csv('a\n1\n\n3\n').rows).toEqual([[1], [null], [3]]);
  });

  it('accepts CRLF, LF and lone CR line ends and quoted fields spanning lines', () => {
    const table = csv('a,b\r\n"x\r\ny",1\r"p""q",2\n');
    expect(table.rows).toEqual([
      ['x\r\ny', 1],
      ['p"q', 2],
    ]);
  });

  it('reports malformed input with the line it is on', () => {
    expect(() => csv('')).toThrow('the CSV is empty: its first line must name the columns');
    expect(() => csv('a,b\n"x"y,1\n')).toThrow('line 2 of the CSV has text after a closing quote');
    expect(() => csv('a,b\n"multi\nline",1\n1,2,3\n')).toThrow('line 4 of the CSV has 3 fields, the header has 2');
    expect(() => readCsv(Buffer.from([0x61, 0x0a, 0xff, 0xfe]))).toThrow('the CSV is not UTF-8 text');
  });
});

describe('csvRecord', () => {
  it('quotes only fields with a comma, a quote or a line break, doubles quotes, ends with CRLF', () => {
    expect(csvRecord(['a', 'b c', ''])).toBe('a,b c,\r\n');
    expect(csvRecord(['x,y', 'say "hi"', 'two\nlines', 'cr\r'])).toBe('"x,y","say ""hi""","two\nlines","cr\r"\r\n');
  });

  it('round-trips through readCsv', () => {
    const fields = ['plain', 'with,comma', '"quoted"', 'multi\r\nline', "it's"];
    const text = csvRecord(['a', 'b', 'c', 'd', 'e']) + csvRecord(fields);
    expect(csv(text).rows).toEqual([fields]);
  });
});

describe('spreadsheetSafe', () => {
  it('defuses text a spreadsheet would run as a formula', () => {
    for (const text of ['=SUM(A1:A2)', '+cmd', '-2+3', '@import', '=', '-', '-Infinity']) {
      expect(spreadsheetSafe(text)).toBe(`'${text}`);
    }
  });

  it('keeps numbers and other text as they are', () => {
    for (const text of ['-1.5', '+3', '-2e-3', '-.5', 'hello', '', " '=x", 'a=b']) {
      expect(spreadsheetSafe(text)).toBe(text);
    }
  });
});

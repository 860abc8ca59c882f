import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type BatchDocument, documentChunks, parseDocument, seqOfFileName, splitPart, utf8 } from './batch.js';
import { SeriesBuffer } from './buffer.js';
import { encodeMetrics, flattenValues } from './encode.js';

function doc(): BatchDocument {
  const buffer = new SeriesBuffer('loss', null);
  for (let i = 0; i < 5; i++)
    buffer.push(i === 2 ? Number.NaN : i / 2, i === 4 ? Number.NaN : i, 1_000 + i, Number.NaN);
  const slice = buffer.take();
  if (!slice) throw new Error('empty');
  return {
    v: 1,
    experimentKey: 'k'.repeat(32),
    writerId: 'w',
    seq: 3,
    createdAt: 1,
    points: 5,
    parts: [
      {
        part: 'metrics',
        method: 'POST',
        path: '/experiments/k/metrics',
        idempotencyKey: 'w:3:metrics',
        points: 5,
        body: encodeMetrics([slice]),
      },
      {
        part: 'tags',
        method: 'POST',
        path: '/experiments/k/tags',
        idempotencyKey: 'w:3:tags',
        points: 0,
        body: '{"tags":["a","b","c"]}',
      },
    ],
  };
}

describe('batch documents', () => {
  it('encode columns as the bulk path wants them: non-finite values as strings, missing steps as null', () => {
    expect(JSON.parse(doc().parts[0]?.body as string)).toEqual({
      series: [
        {
          name: 'loss',
          context: null,
          values: [0, 0.5, 'NaN', 1.5, 2],
          steps: [0, 1, 2, 3, null],
          timestamps: [1000, 1001, 1002, 1003, 1004],
        },
      ],
      allowNonFinite: true,
    });
  });

  it('round-trip as chunks, and as separately gzipped chunks that decompress to the same document', () => {
    const original = doc();
    const bodies = original.parts.map((p) => utf8(p.body));
    const chunks = documentChunks(original, bodies);
    expect(chunks).toHaveLength(2 * original.parts.length + 1);
    expect(parseDocument(Buffer.concat(chunks).toString())).toEqual(original);
    const members = chunks.map((c) => gzipSync(c));
    expect(parseDocument(gunzipSync(Buffer.concat(members)).toString())).toEqual(original);
    // The odd chunks are the bodies, sendable on their own.
    expect(gunzipSync(members[1] as Buffer).toString()).toBe(original.parts[0]?.body);
    const empty = { ...original, parts: [] };
    expect(parseDocument(Buffer.concat(documentChunks(empty, [])).toString())).toEqual(empty);
  });

  it('split a part in halves with derived keys, down to one point', () => {
    const [metrics, tags] = doc().parts;
    const halves = splitPart(metrics as NonNullable<typeof metrics>);
    expect(halves?.map((h) => [h.part, h.idempotencyKey, h.points])).toEqual([
      ['metrics.0', 'w:3:metrics.0', 2],
      ['metrics.1', 'w:3:metrics.1', 3],
    ]);
    const right = JSON.parse(halves?.[1].body as string);
    expect(right.series[0]).toMatchObject({
      values: ['NaN', 1.5, 2],
      steps: [2, 3, null],
      timestamps: [1002, 1003, 1004],
    });
    expect(right.allowNonFinite).toBe(true);
    let part = halves?.[0];
    for (let i = 0; i < 3 && part; i++) part = splitPart(part)?.[0];
    expect(part).toBeUndefined();
    expect(splitPart(tags as NonNullable<typeof tags>)?.map((h) => JSON.parse(h.body))).toEqual([
      { tags: ['a'] },
      { tags: ['b', 'c'] },
    ]);
  });

  it('name files by seq and ignore everything else', () => {
    expect(seqOfFileName('12.json')).toBe(12);
    expect(seqOfFileName('12.json.gz')).toBe(12);
    expect(seqOfFileName('12.json.gz.123.tmp')).toBeUndefined();
    expect(seqOfFileName('writer.lock')).toBeUndefined();
  });

  it('flatten nested values as the server does, keeping arrays and naming non-finite numbers', () => {
    const flat = flattenValues({
      lr: 0.1,
      optimizer: { name: 'adam', betas: [0.9, 0.99] },
      bad: Number.NaN,
      none: undefined,
      off: null,
    });
    expect(Object.fromEntries(flat)).toEqual({
      lr: 0.1,
      'optimizer.name': 'adam',
      'optimizer.betas': [0.9, 0.99],
      bad: 'NaN',
      off: null,
    });
  });
});

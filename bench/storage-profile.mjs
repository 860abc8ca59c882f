// Where shape M's bytes per point go (issue #14): the block codec on the benchmark's own series
// (built checkout), the information left in the values once XORed with their predecessor, and, for
// a data directory kept by `npm run bench -- M --peers cairn --cairn-batch 25000 --keep-data`,
// SQLite's own accounting (dbstat) of the database file.
//
//   node bench/storage-profile.mjs [--data /tmp/cairn-bench-cairn-XXXX/data]

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants } from 'node:zlib';
import { encodeBlock } from '../packages/server/dist/storage/series/block-codec.js';
import { encodeChunkSummaries, summarizeChunks } from '../packages/server/dist/storage/series/chunk-summary.js';
import { timestamp, value } from './lib/workload.mjs';

const { values: args } = parseArgs({ options: { data: { type: 'string' } } });

// 16 of M's series (1,000 steps each, as the bulk path seals them: one block per series).
const STEPS = 1000;
const sums = { block: 0, withoutValues: 0, summaries: 0, valuesBrotli: 0 };
const planeBits = new Array(8).fill(0);
let series = 0;
for (const run of [0, 17, 63, 99]) {
  for (const metric of [0, 5, 12, 24]) {
    const points = Array.from({ length: STEPS }, (_, step) => ({
      offset: 1000 + step * 25 + metric,
      value: value(run, metric, step),
      step,
      epoch: null,
      timestamp: timestamp(run, step),
      contextId: 0,
    }));
    sums.block += encodeBlock(points).length;
    sums.withoutValues += encodeBlock(points.map((p) => ({ ...p, value: 0 }))).length;
    sums.summaries += encodeChunkSummaries(summarizeChunks(points)).length;
    const planes = xorPlanes(points.map((p) => p.value));
    sums.valuesBrotli += brotliCompressSync(Buffer.concat(planes), {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11 },
    }).length;
    planes.forEach((plane, b) => {
      planeBits[b] += entropyBits(plane) * plane.length;
    });
    series++;
  }
}
const perPoint = (bytes) => +(bytes / (series * STEPS)).toFixed(3);
console.log(`block codec on ${series} of M's series (${STEPS} points each), bytes per point:`);
console.table({
  'sealed block (deflate level 3)': perPoint(sums.block),
  '  of which all but values': perPoint(sums.withoutValues),
  'chunk summaries (stored beside the block)': perPoint(sums.summaries),
  'values alone, XOR + shuffle + brotli 11': perPoint(sums.valuesBrotli),
  'values alone, order-0 entropy of each XOR byte plane': perPoint(planeBits.reduce((a, b) => a + b, 0) / 8),
});
console.log('order-0 entropy of each byte of value XOR previous value (bits of 8; byte 7 holds sign and exponent):');
console.log(planeBits.map((bits, b) => `byte ${b}: ${(bits / (series * STEPS)).toFixed(2)}`).join(', '));

if (args.data) {
  const require = createRequire(new URL('../packages/server/package.json', import.meta.url));
  const Database = require('better-sqlite3');
  const db = new Database(join(args.data, 'cairn.db'), { readonly: true });
  const points = db.prepare('select sum(point_count) as n from series').get().n;
  const rows = db
    .prepare(
      `select name, sum(pgsize) as bytes, sum(payload) as payload, sum(unused) as unused
       from dbstat group by name order by bytes desc limit 8`,
    )
    .all();
  const blocks = db
    .prepare(
      'select count(*) as n, avg(length(payload)) as payload, avg(length(chunk_summaries)) as summaries from series_blocks',
    )
    .get();
  console.log(
    `\n${args.data}/cairn.db: ${points} points, ${blocks.n} blocks (payload ${blocks.payload.toFixed(0)} B, summaries ${blocks.summaries.toFixed(0)} B on average); bytes per point by table or index:`,
  );
  console.table(
    rows.map((r) => ({
      name: r.name,
      allocated: +(r.bytes / points).toFixed(3),
      'cell payload': +(r.payload / points).toFixed(3),
      'unused in its pages': +(r.unused / points).toFixed(3),
    })),
  );
  db.close();
}

/** The doubles' bytes XORed with the previous value's, one array per byte position. */
function xorPlanes(values) {
  const raw = new Uint8Array(Float64Array.from(values).buffer);
  return Array.from({ length: 8 }, (_, b) => {
    const plane = new Uint8Array(values.length);
    let previous = 0;
    for (let i = 0; i < values.length; i++) {
      plane[i] = raw[i * 8 + b] ^ previous;
      previous = raw[i * 8 + b];
    }
    return plane;
  });
}

/** Bits per byte of an order-0 model fitted to the bytes themselves (a lower bound for such coders). */
function entropyBits(bytes) {
  const counts = new Map();
  for (const x of bytes) counts.set(x, (counts.get(x) ?? 0) + 1);
  let bits = 0;
  for (const c of counts.values()) bits -= (c / bytes.length) * Math.log2(c / bytes.length);
  return bits;
}

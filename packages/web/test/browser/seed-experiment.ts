import { deflateSync } from 'node:zlib';
import type { Cairn } from '@cairn/sdk';

/** Seeding of the experiment and compare browser tests, through the SDK as training code would. */

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real RGB PNG of `size`×`size`: a diagonal gradient tinted by `hue` (0–255), so steps look different. */
export function gradientPng(size: number, hue: number): Uint8Array<ArrayBuffer> {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows: number[] = [];
  for (let y = 0; y < size; y++) {
    rows.push(0); // no filter
    for (let x = 0; x < size; x++) {
      const t = Math.round(((x + y) / (2 * size)) * 255);
      rows.push(hue, t, 255 - t);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.from(rows))),
    chunk('IEND', new Uint8Array()),
  ]);
}

const blob = (bytes: Uint8Array<ArrayBuffer> | string) => new Blob([bytes]);

export const CONFUSION = {
  version: 1,
  title: 'Validation confusion matrix',
  labels: ['cat', 'dog', 'bird'],
  matrix: [
    [41, 6, 3],
    [4, 44, 2],
    [7, 1, 42],
  ],
  rowLabel: 'Actual Category',
  columnLabel: 'Predicted Category',
  maxSamplesPerCell: 25,
  sampleMatrix: null,
  type: null,
};

/** The HTML tries to reach the app's document and its origin's storage; what it finds is written into its own body. */
export const PROBE_HTML = `<!doctype html><html><body><h1>Report</h1><p id="outcome">pending</p><script>
let outcome;
try { outcome = 'READ PARENT: ' + parent.document.title; } catch (error) { outcome = 'BLOCKED'; }
let storage;
try { storage = 'READ STORAGE: ' + window.localStorage.length; } catch (error) { storage = 'no storage'; }
document.getElementById('outcome').textContent = outcome + ' / ' + storage;
</script></body></html>`;

export const PATCH = `diff --git a/train.py b/train.py
index 3b18e51..a9f3c2d 100644
--- a/train.py
+++ b/train.py
@@ -1,6 +1,7 @@
 import torch
-LR = 0.01
+LR = 0.001
+WARMUP = 500
 
 def train(model):
     optimizer = torch.optim.Adam(model.parameters(), lr=LR)
diff --git a/README.md b/README.md
index 1111111..2222222 100644
--- a/README.md
+++ b/README.md
@@ -3,2 +3,2 @@
-Old description
+Trains a ResNet on CIFAR-10
`;

export const CODE = `import torch
from torch import nn

LR = 0.001


def train(model: nn.Module, epochs: int = 10) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    for epoch in range(epochs):
        loss = step(model, optimizer)
        print(f"epoch {epoch} loss {loss:.4f}")
`;

/** A fully logged experiment: everything each tab of the experiment page shows. */
export async function seedFullExperiment(cairn: Cairn, project: string, name: string): Promise<string> {
  const { key } = await cairn.experiments.create('default', project, { name });
  await cairn.params.log(key, {
    optimizer: { name: 'adam', lr: 0.001, betas: { b1: 0.9, b2: 0.999 } },
    batch_size: 64,
    epochs: 10,
    augment: true,
  });
  await cairn.others.log(key, { dataset: 'cifar10', seed: 42 });
  await cairn.tags.add(key, ['baseline', 'resnet']);
  const steps = Array.from({ length: 50 }, (_, i) => i);
  await cairn.metrics.log(key, {
    series: [
      { name: 'loss', steps, values: steps.map((s) => 2 / (1 + s / 5)) },
      { name: 'accuracy', steps, values: steps.map((s) => 0.5 + s / 120) },
      { name: 'sys.cpu.percent', steps, values: steps.map((s) => 40 + (s % 7)) },
    ],
  });
  const lines = Array.from({ length: 2500 }, (_, i) =>
    i % 50 === 49
      ? { text: `warning: learning rate warmup step ${i}`, stderr: true }
      : { text: `epoch ${Math.floor(i / 40)} batch ${i % 40} loss ${(2 / (1 + i / 50)).toFixed(4)}` },
  );
  await cairn.output.log(key, lines);
  await cairn.documents.put(key, 'code', CODE);
  await cairn.documents.put(key, 'html', PROBE_HTML);
  await cairn.documents.put(
    key,
    'git-metadata',
    JSON.stringify({
      user: 'ada',
      root: '9f1c2e3d4b5a69788776655443322110fedcba98',
      branch: 'refs/heads/feature/warmup',
      parent: 'a9f3c2d1e0b9a8f7e6d5c4b3a291807f6e5d4c3b',
      origin: 'git@example.com:lab/vision.git',
      status: null,
    }),
  );
  await cairn.documents.put(
    key,
    'system-details',
    JSON.stringify({
      hostname: 'gpu-node-3',
      user: 'ada',
      os: 'Linux-6.1.0-x86_64-with-glibc2.36',
      osType: 'Linux',
      pythonVersion: '3.11.9',
      pid: 4242,
      ip: '10.0.0.3',
      totalRam: 68719476736,
      command: ['python', 'train.py', '--epochs', '10'],
      gpuStaticInfoList: [
        { gpuIndex: 0, name: 'NVIDIA A100-SXM4-40GB', uuid: 'GPU-1234', totalMemory: 42949672960, powerLimit: 400000 },
      ],
      env: { CUDA_VISIBLE_DEVICES: '0' },
    }),
  );
  await cairn.documents.put(
    key,
    'dependencies',
    JSON.stringify([
      { name: 'torch', version: '2.4.1' },
      { name: 'numpy', version: '1.26.4' },
      { name: 'torchvision', version: '0.19.1' },
    ]),
  );
  await cairn.gitPatch.put(key, PATCH);
  for (const [index, step] of [0, 5, 10].entries()) {
    await cairn.assets.upload(key, blob(gradientPng(64, index * 110)), {
      name: 'samples/prediction.png',
      type: 'image',
      step,
    });
  }
  await cairn.assets.upload(key, blob(JSON.stringify(CONFUSION)), {
    name: 'confusion-matrix.json',
    type: 'confusion-matrix',
    step: 10,
  });
  await cairn.assets.upload(
    key,
    blob(JSON.stringify({ x: [0, 0.1, 0.3, 0.6, 1], y: [0, 0.55, 0.8, 0.93, 1], name: 'roc-val' })),
    { name: 'roc-val', type: 'curve', step: 10 },
  );
  await cairn.assets.upload(key, blob('The quick brown fox jumps over the lazy dog.'), {
    name: 'text-sample-1.txt',
    type: 'text-sample',
    step: 3,
  });
  await cairn.assets.upload(key, blob(new Uint8Array(2048)), { name: 'weights.bin', model: 'resnet18' });
  await cairn.tables.put(key, 'predictions', {
    columns: [
      { name: 'id', type: 'integer' },
      { name: 'label', type: 'string' },
      { name: 'score', type: 'double' },
    ],
    rows: Array.from({ length: 1200 }, (_, i) => [
      i,
      ['cat', 'dog', 'bird'][i % 3],
      Math.round((i % 97) * 1000) / 97000,
    ]),
  });
  await cairn.experiments.end(key);
  return key;
}

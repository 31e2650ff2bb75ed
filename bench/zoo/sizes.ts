// Sizes the results compare: the bytes written by the converter (model.json + weight files of
// the output folder), the bytes of the input files (as published: some packages already store
// weights quantized or as float16) and the bytes the same model takes with float32 weights
// (model.json + 4 bytes per weight value, whatever dtype the input stores).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function folderBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((n, e) => n + statSync(join(dir, e.name)).size, 0);
}

export function float32Bytes(modelJsonPath: string): number {
  const text = readFileSync(modelJsonPath, 'utf8');
  const json = JSON.parse(text) as { weightsManifest?: { weights?: { shape: number[] }[] }[] };
  let values = 0;
  for (const g of json.weightsManifest ?? [])
    for (const w of g.weights ?? []) values += w.shape.reduce((a, b) => a * b, 1);
  return Buffer.byteLength(text) + 4 * values;
}

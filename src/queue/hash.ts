// What identifies a conversion's output, for resume and for idempotent publishing: the content
// hash of the input model (model.json and its weight shards, in manifest order: the same
// sha256 the loader records as the model's provenance, so a result's `sourceSha256` can be
// compared with it) and a key of the conversion options that change the output's bytes.
import { createHash } from 'node:crypto';
import { readModelFiles } from '../io/files.js';
import { ModelFormatError } from '../model/errors.js';
import type { ConvertOptions } from '../convert/convert-one.js';

/**
 * sha256 of a model's files as the loader reads them, or undefined when the files cannot be
 * read as a model (the conversion will then fail with the loader's own message; nothing to resume).
 */
export async function inputHash(modelJson: string): Promise<string | undefined> {
  try {
    return (await readModelFiles(modelJson)).sha256;
  } catch (e) {
    if (e instanceof ModelFormatError) return undefined;
    throw e;
  }
}

/** Options that do not change the converted model: how much is measured and with how many threads. */
const MEASUREMENT_ONLY = new Set<keyof ConvertOptions>(['evalSamples', 'runs', 'threads']);

/** A stable key of the options that decide the output (keys sorted, measurement-only options left out). */
export function conversionKey(o: ConvertOptions): string {
  const kept = Object.entries(o)
    .filter(([k, v]) => !MEASUREMENT_ONLY.has(k as keyof ConvertOptions) && v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(kept)).digest('hex').slice(0, 32);
}

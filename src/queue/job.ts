// One queued conversion: what a job carries and what a worker does with it. The conversion
// itself is the local converter's (`convertOne`), so a queued model produces exactly what
// `convert --jobs N` produces; around it the job stages the output privately and publishes it
// atomically with its record (storage.ts), so a retried, stalled or duplicated job never
// leaves a partial or doubled output.
import { isAbsolute, join, normalize, sep } from 'node:path';
import { convertOne, type ConvertOptions, type ModelResult } from '../convert/convert-one.js';
import { sameOutput, type ConversionStorage, type OutputRecord, type StorageKind } from './storage.js';

/** Environment variable through which a worker tells its child processes how many threads a conversion may use. */
export const THREADS_ENV = 'TFJS_QUANT_QUEUE_THREADS';

export interface ConversionJobData {
  storage: StorageKind;
  /** The input's model.json, as the storage names it. */
  source: string;
  /** Output folder relative to outputRoot. */
  rel: string;
  outputRoot: string;
  /** Content hash of the input when it was enqueued (undefined: unreadable as a model). */
  inputHash?: string;
  conversionKey: string;
  options: ConvertOptions;
  /** The enqueuing run: names staging folders so the coordinator can sweep what dead workers left. */
  batch: string;
  /** Set by a worker when an attempt's conversion failed: that attempt's full result, for the report. */
  failedResult?: ModelResult;
}

const MODES = new Set(['dynamic', 'int8', 'float16', 'compress']);
const FORMATS = new Set(['native', 'tfjs']);

/**
 * What is wrong with a job's data, or undefined when it is well-formed. Workers act on paths a
 * job names, so a job that did not come from `convert --queue` (another tool, a hand-edited
 * Redis) is refused before anything is read or written.
 */
export function jobDataProblem(d: unknown): string | undefined {
  if (d === null || typeof d !== 'object') return 'job data is not an object';
  const j = d as Partial<ConversionJobData>;
  if (j.storage !== 'shared-folder') return `unknown storage '${String(j.storage)}'`;
  if (typeof j.source !== 'string' || !isAbsolute(j.source)) return 'source must be an absolute path';
  if (typeof j.outputRoot !== 'string' || !isAbsolute(j.outputRoot)) return 'outputRoot must be an absolute path';
  if (
    typeof j.rel !== 'string' ||
    j.rel === '' ||
    isAbsolute(j.rel) ||
    normalize(j.rel) !== j.rel ||
    j.rel.split(sep).includes('..')
  ) {
    return `rel '${String(j.rel)}' must be a non-empty relative path inside the output root`;
  }
  if (typeof j.batch !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(j.batch)) return 'batch must be a plain name';
  if (typeof j.conversionKey !== 'string') return 'conversionKey is missing';
  if (j.inputHash !== undefined && (typeof j.inputHash !== 'string' || !/^[0-9a-f]{64}$/.test(j.inputHash)))
    return 'inputHash must be a sha256 hex string';
  const o = j.options as Partial<ConvertOptions> | undefined;
  if (!o || typeof o !== 'object' || !MODES.has(o.mode as string) || !FORMATS.has(o.format as string))
    return 'options must name a mode and a format';
  return undefined;
}

/** A conversion attempt that failed; its result is what the report shows if no retry succeeds. */
export class ConversionFailed extends Error {
  override name = 'ConversionFailed';
  constructor(readonly result: ModelResult) {
    super(result.error ?? 'conversion failed');
  }
}

/**
 * Runs one job: returns the result of the output now in place (converted here, or already
 * published by another worker from the same input and options); throws ConversionFailed when
 * the conversion fails (the queue retries it).
 */
export async function runConversionJob(
  data: ConversionJobData,
  storage: ConversionStorage,
  threads: number,
): Promise<ModelResult> {
  // A stalled job can come back after its first worker published: nothing left to do.
  const there = await storage.readRecord(data.outputRoot, data.rel);
  if (there && sameOutput(there, data)) return there.result;
  const staged = await storage.stage(data.outputRoot, data.batch);
  let result: ModelResult;
  try {
    result = await convertOne(
      { source: await storage.localInput(data.source), rel: data.rel, output: staged },
      { ...data.options, threads },
    );
  } catch (e) {
    await storage.discard(staged);
    throw e;
  }
  if (result.status === 'failed') {
    await storage.discard(staged);
    throw new ConversionFailed({ ...result, source: data.source, output: join(data.outputRoot, data.rel) });
  }
  const final: ModelResult = { ...result, source: data.source, output: join(data.outputRoot, data.rel) };
  // The record names the bytes actually converted (the loader's hash), not the enqueued hash:
  // if the input changed in between, a later run sees the difference.
  const record: OutputRecord = {
    tool: 'tfjs-quant',
    version: 1,
    inputHash: result.sourceSha256,
    conversionKey: data.conversionKey,
    result: final,
  };
  const outcome = await storage.publish(staged, data.outputRoot, data.rel, record);
  return outcome.record.result;
}

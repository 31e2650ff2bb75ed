// The job processor BullMQ runs in a child process of `tfjs-quant worker` (a sandboxed
// processor). In a child, a conversion that holds the CPU for minutes cannot starve the
// worker's lock renewals (the job would look stalled and run twice), and a crash in native
// code fails one attempt instead of the worker.
import { UnrecoverableError, type SandboxedJob } from 'bullmq';
import { ConversionFailed, jobDataProblem, runConversionJob, THREADS_ENV, type ConversionJobData } from './job.js';
import { storageFor } from './storage.js';
import type { ModelResult } from '../convert/convert-one.js';

// The worker that forked this child is gone (killed): its job will be re-run elsewhere after
// stall detection, so stop now rather than finish work nobody will collect.
process.once('disconnect', () => process.exit(1));

export default async function processConversion(
  job: SandboxedJob<ConversionJobData, ModelResult>,
): Promise<ModelResult> {
  const problem = jobDataProblem(job.data);
  // Malformed data fails the same way every time: no retries.
  if (problem) throw new UnrecoverableError(`refused job ${job.id}: ${problem}`);
  const threads = Math.max(1, Number(process.env[THREADS_ENV]) || 1);
  try {
    return await runConversionJob(job.data, storageFor(job.data.storage), threads);
  } catch (e) {
    // Keep the failed attempt's full result with the job: the coordinator reports it (format,
    // sizes, warnings) if no retry succeeds. The error still propagates, so BullMQ retries.
    if (e instanceof ConversionFailed) await job.updateData({ ...job.data, failedResult: e.result });
    throw e;
  }
}

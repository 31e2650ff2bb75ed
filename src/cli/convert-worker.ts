// Worker thread of `tfjs-quant convert --jobs N`: converts the models it is sent, one at a
// time, and posts each result back. Each model is independent; a failure is a result.
import { parentPort } from 'node:worker_threads';
import { convertOne, type ConvertOptions } from '../convert/convert-one.js';

interface Job {
  id: number;
  task: { source: string; rel: string; output: string };
  options: ConvertOptions;
}

if (!parentPort) throw new Error('convert-worker must run in a worker thread');
const port = parentPort;
port.on('message', (job: Job) => {
  void convertOne(job.task, job.options).then((result) => port.postMessage({ id: job.id, result }));
});

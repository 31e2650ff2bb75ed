// Load benchmark of `tfjs-quant serve` with autocannon on loopback: a MobileNetV2-style int8
// model (binary safetensors bodies) and LeNet-300-100 int8 (JSON bodies), at 1–64 concurrent
// connections, with dynamic batching on (--batch-timeout-ms 2; --max-batch 8 for MobileNet,
// 32 for the MLP, see ENGINES) and off (--max-batch 1), against a plain Fastify server calling
// tfjs float (wasm) per request.
// Each server runs alone in its own process (spawned per configuration); rounds alternate
// the order of the servers and the table reports the spread. Runs are short (the machine
// is 2 shared cores): --duration seconds per point after --warmup seconds. Then one longer
// run (--soak seconds) of MobileNet with batching at 32 connections: failed requests and
// the server's RSS over time. MobileNet also runs with --sessions 2 (one thread each, two
// batches in flight), batching on and off. Writes its tables into bench/serve/RESULTS.md
// between the "generated" markers, leaving the notes written by hand around them.
//   npx tsx bench/serve/run.ts [--duration 8] [--warmup 2] [--rounds 2] [--connections 1,8,32,64] [--soak 60] [--models mobilenet,mlp]
import autocannon, { type Result } from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initFloatBackend } from '../../src/backend/float.js';
import { saveNative } from '../../src/model/save-native.js';
import { cpuInfo, getIsa } from '../../src/native/cpu.js';
import { quantize } from '../../src/quant/quantize.js';
import { median } from '../../src/report/table.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { graphOf, variedInput } from '../../test/runtime/helpers.js';
import { requestBody, requestInput, SERVE_MODELS, type ServeModelName } from './models.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}
const DURATION = Number(arg('duration', '8'));
const WARMUP = Number(arg('warmup', '2'));
const ROUNDS = Number(arg('rounds', '2'));
const SOAK = Number(arg('soak', '60'));
const CONNECTIONS = arg('connections', '1,8,32,64').split(',').map(Number);
const MODELS = arg('models', 'mobilenet,mlp').split(',') as ServeModelName[];

interface Engine {
  name: string;
  start(model: ServeModelName, dir: string): ChildProcess;
}

const tsx = (script: string, args: string[]): ChildProcess =>
  spawn(process.execPath, ['--import', 'tsx', join(root, script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: root,
  });
const native = (maxBatch: number, sessions = 1): Engine => ({
  name:
    (maxBatch > 1
      ? `tfjs-quant int8, batching on (max-batch ${maxBatch}, 2 ms)`
      : 'tfjs-quant int8, batching off (max-batch 1)') + (sessions > 1 ? `, ${sessions} sessions × 1 thread` : ''),
  start: (_m, dir) =>
    tsx('src/cli/entry.ts', [
      'serve',
      dir,
      '--port',
      '0',
      '--threads',
      '2',
      '--max-batch',
      String(maxBatch),
      '--batch-timeout-ms',
      '2',
      '--log-level',
      'silent',
      '--poll-ms',
      '0',
      '--sessions',
      String(sessions),
    ]),
});
const BASELINE: Engine = {
  name: 'Fastify + tfjs float (wasm) per request',
  start: (m) => tsx('bench/serve/baseline-server.ts', [m]),
};
/**
 * Per model: [batching on (the reported configuration), batching off, baseline, extras].
 * MobileNet's batching row uses --max-batch 8, the batch bench/models measured its batch gain
 * at (224×224 activations of more images than that outgrow the caches); the default 32 is
 * shown as well, and both batching on and off with two single-threaded sessions (two batches
 * in flight, no thread hand-off inside a run). The MLP uses the default 32.
 */
const ENGINES: Record<ServeModelName, Engine[]> = {
  mobilenet: [native(8), native(1), BASELINE, native(32), native(8, 2), native(1, 2)],
  mlp: [native(32), native(1), BASELINE],
};
/** Batching on / off pairs compared in the summary (indices into ENGINES). */
const PAIRS: Record<ServeModelName, [number, number][]> = {
  mobilenet: [
    [0, 1],
    [3, 1],
    [4, 5],
  ],
  mlp: [[0, 1]],
};

async function listening(child: ChildProcess): Promise<string> {
  let out = '',
    err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s)]+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code} before listening: ${err.slice(-2000)}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** utime + stime in ms of a /proc stat file (100 Hz ticks). */
async function cpuMsOf(statFile: string): Promise<number> {
  const stat = (await readFile(statFile, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(stat[11]) + Number(stat[12])) * 10;
}

/**
 * CPU time of a process in ms, of its main thread (the event loop: HTTP, JSON, the batcher,
 * garbage collection pauses) and its RSS in MiB. The rest of the CPU time is the other threads:
 * inference (libuv's and the native pool's) and V8's concurrent garbage collection.
 */
async function procStats(pid: number): Promise<{ cpuMs: number; loopMs: number; rssMiB: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return {
    cpuMs: await cpuMsOf(`/proc/${pid}/stat`),
    loopMs: await cpuMsOf(`/proc/${pid}/task/${pid}/stat`),
    rssMiB: rss / 1024,
  };
}

interface Point {
  rps: number;
  p50: number;
  p99: number;
  failed: number;
  cpuPerReq: number;
  /** Of which on the main thread (the event loop). */
  loopPerReq: number;
  rows?: number;
}

async function load(
  url: string,
  model: ServeModelName,
  inputName: string,
  connections: number,
  seconds: number,
): Promise<Result> {
  const { body, contentType } = requestBody(model, inputName);
  const r = await autocannon({
    url: `${url}/v1/models/${model}:predict`,
    method: 'POST',
    body,
    headers: { 'content-type': contentType },
    connections,
    duration: seconds,
    timeout: 120,
  });
  // autocannon stops at the deadline with requests still in the server (the tfjs server runs
  // them one by one on its event loop): one more request, answered after them, waits them
  // out so that they do not eat into the next measurement.
  await fetch(`${url}/v1/models/${model}:predict`, {
    method: 'POST',
    body,
    headers: { 'content-type': contentType },
  }).then((x) => x.arrayBuffer());
  return r;
}

/** Rows and batches run so far (from the server's /metrics; zeros for the tfjs server). */
async function batchTotals(url: string, model: string): Promise<{ rows: number; batches: number }> {
  const m = await fetch(`${url}/metrics`).then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  );
  const sum = new RegExp(`^tfjs_quant_serve_batch_rows_sum\\{model="${model}",version="1"\\} ([\\d.]+)$`, 'm').exec(m);
  const count = new RegExp(`^tfjs_quant_serve_batch_rows_count\\{model="${model}",version="1"\\} (\\d+)$`, 'm').exec(m);
  return { rows: Number(sum?.[1] ?? 0), batches: Number(count?.[1] ?? 0) };
}

async function buildModels(
  dir: string,
): Promise<Record<string, { inputName: string; msPerRow: Record<number, number> }>> {
  const info: Record<string, { inputName: string; msPerRow: Record<number, number> }> = {};
  for (const name of MODELS) {
    const m = SERVE_MODELS[name];
    const float = await graphOf(m.build());
    const calib = variedInput([8, ...m.shape], 7);
    const { graph } = await quantize(float, { mode: 'int8', calibration: [calib], report: false, optimize: false });
    calib.dispose();
    await saveNative(graph, join(dir, name, '1'));
    // In-process inference per row at batch 1 and 32 (2 threads): what a request costs the
    // runtime without HTTP, for "where the time goes" — as process CPU time, which other
    // jobs on the machine disturb less than wall time.
    const s = await InferenceSession.create(graph, { threads: 2 });
    const msPerRow: Record<number, number> = {};
    for (const b of [1, 8, 32]) {
      const x = new Float32Array(b * m.shape.reduce((a, c) => a * c, 1));
      const one = requestInput(name);
      for (let i = 0; i < b; i++) x.set(one, i * one.length);
      const feed = { [s.inputs[0]!.name]: { data: x, shape: [b, ...m.shape] } };
      await s.run(feed);
      const t: number[] = [];
      for (let i = 0; i < (b === 1 ? 30 : b === 8 ? 8 : 4); i++) {
        const c0 = process.cpuUsage();
        await s.run(feed);
        const c = process.cpuUsage(c0);
        t.push((c.user + c.system) / 1000);
      }
      msPerRow[b] = median(t) / b;
    }
    info[name] = { inputName: s.inputs[0]!.name, msPerRow };
    s.dispose();
  }
  return info;
}

const BEGIN = '<!-- generated by bench/serve/run.ts: begin -->';
const END = '<!-- generated by bench/serve/run.ts: end -->';

/** Replaces the generated part of the results file, keeping what was written by hand around it. */
async function writeResults(file: string, generated: string): Promise<void> {
  const old = await readFile(file, 'utf8').catch(() => '');
  const [b, e] = [old.indexOf(BEGIN), old.indexOf(END)];
  const block = `${BEGIN}\n${generated}\n${END}`;
  const text =
    b >= 0 && e > b ? old.slice(0, b) + block + old.slice(e + END.length) : `${block}\n\n${old}`.trimEnd() + '\n';
  await writeFile(file, text);
}

async function main(): Promise<void> {
  await initFloatBackend('wasm');
  const load0 = loadavg()[0]!;
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-quant-serve-bench-'));
  const results = new Map<string, Point[]>(); // key: model|engine|connections
  const lines: string[] = [];
  const log = (s: string) => {
    process.stdout.write(s + '\n');
  };
  try {
    log(`building models in ${dir} …`);
    const info = await buildModels(dir);
    for (const model of MODELS) {
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? ENGINES[model] : [...ENGINES[model]].reverse();
        for (const engine of order) {
          const child = engine.start(model, join(dir, model));
          const url = await listening(child);
          try {
            let serviceMs = 0;
            for (const c of CONNECTIONS) {
              // A server answering one request at a time needs c × its service time per
              // answer; when that leaves less than one answer per connection in the run, the
              // point says nothing (it would only time the queue): skipped, and said so.
              if (serviceMs * c > DURATION * 1000) {
                log(`${model} ${engine.name} c=${c}: skipped (≈${((serviceMs * c) / 1000).toFixed(0)} s per answer)`);
                continue;
              }
              if (WARMUP > 0) await load(url, model, info[model]!.inputName, c, WARMUP);
              const before = await procStats(child.pid!);
              const b0 = await batchTotals(url, model);
              const r = await load(url, model, info[model]!.inputName, c, DURATION);
              const after = await procStats(child.pid!);
              const b1 = await batchTotals(url, model);
              const ok = r['2xx'];
              const p: Point = {
                rps: ok / r.duration,
                p50: r.latency.p50,
                p99: r.latency.p99,
                failed: r.non2xx + r.errors,
                cpuPerReq: ok ? (after.cpuMs - before.cpuMs) / ok : NaN,
                loopPerReq: ok ? (after.loopMs - before.loopMs) / ok : NaN,
              };
              if (b1.batches > b0.batches) p.rows = (b1.rows - b0.rows) / (b1.batches - b0.batches);
              if (c === CONNECTIONS[0]) serviceMs = Math.max(r.latency.average, 1000 / Math.max(p.rps, 1e-3) / c);
              const key = `${model}|${engine.name}|${c}`;
              results.set(key, [...(results.get(key) ?? []), p]);
              log(
                `${model} round ${round + 1} ${engine.name} c=${c}: ${p.rps.toFixed(1)} req/s p50 ${p.p50} ms p99 ${p.p99} ms failed ${p.failed} cpu ${p.cpuPerReq.toFixed(2)} ms/req (event loop ${p.loopPerReq.toFixed(2)})${p.rows ? ` rows/batch ${p.rows.toFixed(1)}` : ''}`,
              );
            }
          } finally {
            await stop(child);
          }
        }
      }
    }

    const soakRows: string[] = [];
    let soakFailed = 0;
    if (SOAK > 0 && MODELS.includes('mobilenet')) {
      const child = ENGINES.mobilenet[0]!.start('mobilenet', join(dir, 'mobilenet'));
      const url = await listening(child);
      try {
        const rss: string[] = [];
        const sample = setInterval(() => {
          void procStats(child.pid!).then((s) => rss.push(s.rssMiB.toFixed(0)));
        }, 5000);
        rss.push((await procStats(child.pid!)).rssMiB.toFixed(0));
        const r = await load(url, 'mobilenet', info.mobilenet!.inputName, 32, SOAK);
        clearInterval(sample);
        rss.push((await procStats(child.pid!)).rssMiB.toFixed(0));
        soakFailed = r.non2xx + r.errors;
        soakRows.push(
          `${SOAK}-s run, MobileNetV2-style, ${ENGINES.mobilenet[0]!.name}, 32 connections: ${r['2xx']} answered, **${soakFailed} failed**, ${(r['2xx'] / r.duration).toFixed(1)} req/s, p99 ${r.latency.p99} ms.`,
          '',
          `Server RSS (MiB) every 5 s: ${rss.join(', ')}.`,
        );
        log(soakRows.join(' '));
      } finally {
        await stop(child);
      }
    }

    // ---- RESULTS.md
    const cpu = cpuInfo();
    const range = (xs: number[], d = 1) =>
      xs.length > 1 ? `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}` : xs[0]!.toFixed(d);
    const med = (xs: number[]) => median(xs);
    lines.push('# tfjs-quant serve: load benchmark', '');
    lines.push(
      `Machine: ${cpu.brand || cpu.vendor}, ${cpu.availableCores} cores (shared with other jobs: load average ${load0.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end), Node ${process.version}. ` +
        `Native kernels: ${getIsa()}; every tfjs-quant server runs 2 threads (--threads 2). Baseline: tfjs float on tfjs-backend-wasm (single-threaded in Node; tfjs-node does not install here).`,
      '',
    );
    lines.push(
      `Command: \`npx tsx bench/serve/run.ts --duration ${DURATION} --warmup ${WARMUP} --rounds ${ROUNDS} --connections ${CONNECTIONS.join(',')} --soak ${SOAK} --models ${MODELS.join(',')}\`. ` +
        `Each point: ${WARMUP} s warm-up then ${DURATION} s of autocannon on 127.0.0.1 (the load generator shares the 2 cores with the server). Short runs on a shared machine: ` +
        `${ROUNDS} rounds with the servers in alternating order, each server alone in its process; req/s shows the range over rounds, latencies are medians over rounds. ` +
        `"server CPU" is the server process's CPU time per answered request (all threads), "of which event loop" its main thread's (HTTP, body parsing, the batcher, garbage-collection pauses; the rest is inference and V8's concurrent collector). Models: random weights, seeded; int8 by the PTQ quantizer calibrated on 8 inputs.`,
      '',
    );
    for (const model of MODELS) {
      lines.push(
        `## ${model === 'mobilenet' ? 'MobileNetV2-style (224×224×3 → 1000), one float32 image per request as a binary (safetensors) body' : 'LeNet-300-100 MLP (784 → 300 → 100 → 10), one 28×28 image per request as JSON instances'}`,
        '',
      );
      lines.push(
        `In-process int8 inference (2 threads, no HTTP), CPU time per row: ${info[model]!.msPerRow[1]!.toFixed(3)} ms at batch 1, ${info[model]!.msPerRow[8]!.toFixed(3)} ms at batch 8, ${info[model]!.msPerRow[32]!.toFixed(3)} ms at batch 32.`,
        '',
      );
      lines.push(
        '| server | connections | req/s | p50 ms | p99 ms | failed | server CPU ms/req | of which event loop | rows/batch |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      );
      const skipped: string[] = [];
      for (const e of ENGINES[model]) {
        for (const c of CONNECTIONS) {
          const ps = results.get(`${model}|${e.name}|${c}`) ?? [];
          if (!ps.length) {
            skipped.push(`${e.name} at ${c}`);
            continue;
          }
          const rows = ps.map((p) => p.rows).filter((x): x is number => x !== undefined);
          lines.push(
            `| ${e.name} | ${c} | ${range(ps.map((p) => p.rps))} | ${med(ps.map((p) => p.p50)).toFixed(1)} | ${med(ps.map((p) => p.p99)).toFixed(1)} | ${ps.reduce((a, p) => a + p.failed, 0)} | ${med(ps.map((p) => p.cpuPerReq)).toFixed(2)} | ${med(ps.map((p) => p.loopPerReq)).toFixed(2)} | ${rows.length ? med(rows).toFixed(1) : '—'} |`,
          );
        }
      }
      lines.push('');
      if (skipped.length)
        lines.push(
          `Not run (each answer would wait for c × the service time, longer than the run): ${skipped.join(', ')}.`,
          '',
        );
      const stat = (e: Engine, c: number, f: (p: Point) => number) =>
        med((results.get(`${model}|${e.name}|${c}`) ?? []).map(f));
      const baseBest = Math.max(
        ...CONNECTIONS.map((c) => stat(ENGINES[model][2]!, c, (p) => p.rps)).filter(Number.isFinite),
      );
      const baseCpu = Math.min(
        ...CONNECTIONS.map((c) => stat(ENGINES[model][2]!, c, (p) => p.cpuPerReq)).filter(Number.isFinite),
      );
      if (CONNECTIONS.includes(32)) {
        for (const [i, pair] of PAIRS[model].entries()) {
          const [on, off] = [ENGINES[model][pair[0]]!, ENGINES[model][pair[1]]!];
          const at = (e: Engine, f: (p: Point) => number) => stat(e, 32, f);
          const [rpsOn, rpsOff] = [at(on, (p) => p.rps), at(off, (p) => p.rps)];
          const [cpuOn, cpuOff] = [at(on, (p) => p.cpuPerReq), at(off, (p) => p.cpuPerReq)];
          let line =
            `${i ? '' : 'At 32 connections (medians over rounds): '}${on.name.replace('tfjs-quant int8, ', '')} / ${off.name.replace('tfjs-quant int8, ', '')} = **${(rpsOn / rpsOff).toFixed(2)}×** req/s, ` +
            `p99 ${at(on, (p) => p.p99).toFixed(0)} vs ${at(off, (p) => p.p99).toFixed(0)} ms, server CPU per request ${cpuOn.toFixed(2)} vs ${cpuOff.toFixed(2)} ms (${(cpuOff / cpuOn).toFixed(2)}×).`;
          if (i === 0)
            line +=
              ` Batching on / the tfjs-wasm server (its best req/s at any connection count: it answers one request at a time) = **${(rpsOn / baseBest).toFixed(1)}×** req/s; ` +
              `server CPU per request ${(baseCpu / cpuOn).toFixed(1)}× less.`;
          lines.push(line, '');
        }
      }
    }
    if (soakRows.length) lines.push('## Longer run', '', ...soakRows, '');
    await writeResults(join(here, 'RESULTS.md'), lines.join('\n'));
    log(`wrote ${join(here, 'RESULTS.md')}`);
    if (soakFailed) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

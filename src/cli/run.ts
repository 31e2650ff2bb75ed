// `tfjs-quant run <model.json> --input x.npy [--output y.npy]`: one quick inference from
// .npy files, in the native runtime (default) or in tfjs float. Prints each output's shape,
// range and (for [batch, classes] outputs) the top class per row; writes outputs as .npy.
// Exit codes: 0 ok, 1 the model or an input could not be read or run, 2 usage error (a
// missing path included).
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { parseCommand, processIO, UsageError, type CommandIO } from './args.js';
import { requireExistingPaths } from './discover.js';
import { tf, initFloatBackend } from '../backend/float.js';
import { loadModel } from '../model/load.js';
import { execute } from '../model/execute.js';
import { NpyError, readNpy, writeNpy, type NpyData } from '../io/npy.js';
import { InferenceSession } from '../runtime/session.js';
import { ModelFormatError } from '../model/errors.js';

export const RUN_FLAGS = {
  input: {
    type: 'list',
    alias: 'i',
    value: '[NAME=]FILE.npy',
    description: 'An input (by model input order, or NAME=file); repeat for several',
  },
  output: {
    type: 'list',
    alias: 'o',
    value: '[NAME=]FILE.npy',
    description: 'Write an output (the first output, or NAME=file); repeat for several',
  },
  'output-dir': { type: 'string', value: 'DIR', description: 'Write every output as DIR/<name>.npy' },
  engine: {
    type: 'string',
    choices: ['native', 'tfjs'],
    default: 'native',
    description: 'Native runtime or tfjs float execution',
  },
  threads: { type: 'int', min: 0, max: 256, default: 0, description: 'Native runtime threads (0: all)' },
  json: { type: 'boolean', description: 'Print the outputs (shapes and values) as JSON' },
  help: { type: 'boolean', alias: 'h', description: 'Show this help' },
} as const;

function splitNamed(spec: string): [string | undefined, string] {
  const eq = spec.indexOf('=');
  return eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [undefined, spec];
}

interface Out {
  name: string;
  shape: number[];
  data: NpyData;
}

function summary(o: Out): string {
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < o.data.length; i++) {
    const v = o.data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  let s = `${o.name}: shape [${o.shape.join(', ')}], min ${lo}, max ${hi}`;
  if (o.shape.length === 2 && o.shape[1]! > 1) {
    const cols = o.shape[1]!;
    const top: number[] = [];
    for (let r = 0; r < o.shape[0]!; r++) {
      let b = 0;
      for (let c = 1; c < cols; c++) if (o.data[r * cols + c]! > o.data[r * cols + b]!) b = c;
      top.push(b);
    }
    s += `, top-1 per row [${top.slice(0, 32).join(', ')}${top.length > 32 ? ', …' : ''}]`;
  }
  return s;
}

export async function runCommand(args: string[], io: CommandIO = processIO): Promise<number> {
  const opts = parseCommand(
    'run',
    args,
    RUN_FLAGS,
    'tfjs-quant run <model.json> --input [NAME=]x.npy... [--output [NAME=]y.npy]... [options]',
    'Runs a model once on .npy inputs and prints (and optionally writes) its outputs.\nExit codes: 0 ok, 1 the model or an input could not be read or run, 2 usage error.',
    io,
  );
  if (typeof opts === 'number') return opts;
  try {
    if (opts._.length !== 1) throw new UsageError('expected exactly one model path');
    if (!opts.input.length) throw new UsageError('give at least one --input FILE.npy');
    await requireExistingPaths(opts._);
    await requireExistingPaths(
      opts.input.map((spec) => splitNamed(spec)[1]),
      '--input',
    );
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`tfjs-quant run: ${e.message}\n`);
    return 2;
  }
  let session: InferenceSession | undefined;
  try {
    await initFloatBackend();
    const g = await loadModel(opts._[0]!);
    const inputs: Record<string, { data: NpyData; shape: number[] }> = {};
    for (const [i, spec] of opts.input.entries()) {
      const [named, file] = splitNamed(spec);
      const name = named ?? g.inputs[i]?.name;
      if (!name || !g.inputs.some((x) => x.name === name)) {
        throw new UsageError(`--input ${spec}: the model's inputs are ${g.inputs.map((x) => x.name).join(', ')}`);
      }
      const arr = readNpy(new Uint8Array(await fs.readFile(file)), file);
      const want = g.inputs.find((x) => x.name === name)!.dtype;
      const data = want === 'float32' && !(arr.data instanceof Float32Array) ? Float32Array.from(arr.data) : arr.data;
      inputs[name] = { data, shape: arr.shape };
    }
    let outs: Out[];
    if (opts.engine === 'tfjs') {
      const tensors = Object.fromEntries(
        Object.entries(inputs).map(([k, v]) => [
          k,
          tf.tensor(v.data as Float32Array, v.shape, g.inputs.find((x) => x.name === k)!.dtype as 'float32'),
        ]),
      );
      const ys = execute(g, tensors);
      outs = await Promise.all(
        ys.map(async (y, i) => ({ name: g.outputs[i]!, shape: y.shape, data: (await y.data()) as NpyData })),
      );
      tf.dispose([...ys, ...Object.values(tensors)]);
    } else {
      session = await InferenceSession.create(g, { threads: opts.threads });
      const r = await session.run(inputs as never);
      outs = session.outputs.map((o) => ({
        name: o.name,
        shape: [...r[o.name]!.shape],
        data: r[o.name]!.data as NpyData,
      }));
    }
    const byName = new Map(outs.map((o) => [o.name, o]));
    const writes: [string, Out][] = [];
    for (const [i, spec] of opts.output.entries()) {
      const [named, file] = splitNamed(spec);
      const o = named ? byName.get(named) : outs[i];
      if (!o) throw new UsageError(`--output ${spec}: the model's outputs are ${outs.map((x) => x.name).join(', ')}`);
      writes.push([file, o]);
    }
    if (opts.outputDir)
      for (const o of outs) writes.push([join(opts.outputDir, `${o.name.replace(/[^\w.-]+/g, '_')}.npy`), o]);
    if (opts.outputDir) await fs.mkdir(opts.outputDir, { recursive: true });
    for (const [file, o] of writes) {
      const data =
        o.data instanceof Float32Array ||
        o.data instanceof Int32Array ||
        o.data instanceof Int8Array ||
        o.data instanceof Uint8Array
          ? o.data
          : Float32Array.from(o.data);
      await fs.writeFile(file, writeNpy(data, o.shape));
    }
    if (opts.json)
      io.stdout(JSON.stringify(outs.map((o) => ({ name: o.name, shape: o.shape, data: Array.from(o.data) }))) + '\n');
    else io.stdout(outs.map(summary).join('\n') + '\n' + writes.map(([f, o]) => `wrote ${o.name} → ${f}\n`).join(''));
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`tfjs-quant run: ${e.message}\n`);
      return 2;
    }
    if (
      e instanceof ModelFormatError ||
      e instanceof NpyError ||
      e instanceof RangeError ||
      e instanceof TypeError ||
      (e as NodeJS.ErrnoException).code
    ) {
      // The session's own messages name their method ("run: inputs['x'] …"): the command already says it.
      io.stderr(`tfjs-quant run: ${(e as Error).message.replace(/^run: /, '')}\n`);
      return 1;
    }
    throw e;
  } finally {
    session?.dispose();
  }
}

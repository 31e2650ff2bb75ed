// `tfjs-quant inspect <model.json>`: format, inputs/outputs, op histogram, parameters by
// dtype and native int8 coverage. Exit codes: 0 ok, 1 the model cannot be read, 2 usage
// (a missing path included).
import { parseCommand, processIO, UsageError, type CommandIO } from './args.js';
import { requireExistingPaths } from './discover.js';
import { loadModel } from '../model/load.js';
import { inspectGraph, formatInspect } from '../model/inspect.js';
import { ModelFormatError } from '../model/errors.js';

export const INSPECT_FLAGS = {
  json: { type: 'boolean', description: 'Print the report as JSON' },
  'allow-non-finite': { type: 'boolean', description: 'Accept NaN/Inf weights' },
  help: { type: 'boolean', alias: 'h', description: 'Show this help' },
} as const;

export async function inspectCommand(args: string[], io: CommandIO = processIO): Promise<number> {
  const opts = parseCommand(
    'inspect',
    args,
    INSPECT_FLAGS,
    'tfjs-quant inspect <model.json|dir> [options]',
    'Show a TF.js (graph or layers) or tfjs-quant model: inputs, outputs, ops, parameters, int8 coverage.',
    io,
  );
  if (typeof opts === 'number') return opts;
  try {
    if (opts._.length !== 1) throw new UsageError('expected exactly one model path (model.json or its directory)');
    await requireExistingPaths(opts._);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`tfjs-quant inspect: ${e.message}\n`);
    return 2;
  }
  try {
    const g = await loadModel(opts._[0]!, { allowNonFinite: opts.allowNonFinite });
    const r = inspectGraph(g);
    io.stdout(opts.json ? JSON.stringify(r, null, 2) + '\n' : formatInspect(r));
    return 0;
  } catch (e) {
    if (e instanceof ModelFormatError) {
      io.stderr(`tfjs-quant inspect: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

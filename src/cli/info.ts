// `tfjs-quant info`: the CPU, the int8 kernel paths it supports and the one in use, threads,
// and the float backend. Exit codes: 0 ok, 2 usage error.
import { parseCommand, processIO, type CommandIO } from './args.js';
import { cpuInfo, getIsa, getThreads, supportedIsas } from '../native/cpu.js';
import { describeFloatBackend, initFloatBackend } from '../backend/float.js';
import { toolVersion } from '../model/version.js';

export const INFO_FLAGS = {
  json: { type: 'boolean', description: 'Print the information as JSON' },
  help: { type: 'boolean', alias: 'h', description: 'Show this help' },
} as const;

export async function infoCommand(args: string[], io: CommandIO = processIO): Promise<number> {
  const opts = parseCommand(
    'info',
    args,
    INFO_FLAGS,
    'tfjs-quant info [options]',
    'Shows the CPU, the int8 kernel paths it supports and the one in use, the native threads and the float backend.',
    io,
  );
  if (typeof opts === 'number') return opts;
  if (opts._.length) {
    io.stderr(`tfjs-quant info: takes no arguments, got '${opts._[0]}'\n`);
    return 2;
  }
  const info = cpuInfo();
  const backend = await initFloatBackend();
  if (opts.json) {
    io.stdout(
      JSON.stringify(
        {
          version: toolVersion(),
          cpu: info.brand || info.vendor,
          cores: info.availableCores,
          int8Paths: supportedIsas(),
          int8Path: getIsa(),
          threads: getThreads(),
          floatBackend: backend,
          floatBackendDescription: describeFloatBackend(backend),
        },
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  io.stdout(
    `cpu:           ${info.brand || info.vendor} (${info.availableCores} cores)\n` +
      `int8 paths:    ${supportedIsas().join(', ')} (using ${getIsa()})\n` +
      `threads:       ${getThreads()}\n` +
      `float backend: ${describeFloatBackend(backend)}\n`,
  );
  return 0;
}

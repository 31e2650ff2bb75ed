// tfjs-quant command line. Exit codes: 0 ok, 1 some work failed, 2 usage error.
import { cpuInfo, getIsa, getThreads, supportedIsas } from '../native/cpu.js';
import { describeFloatBackend, initFloatBackend } from '../backend/float.js';

const USAGE = `Usage: tfjs-quant <command> [options]

Commands:
  info        Show the CPU, the int8 kernel paths and the float backend in use
  inspect     Show a model: format, inputs/outputs, ops, parameters, int8 coverage
  convert     Convert models in batch (dynamic, int8, float16, compress) with a report
  bench       Latency and throughput: native runtime vs tfjs float backends
  demo        Train a small model on MNIST digits, convert it every way, compare
  help        Show this help
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    case 'info': {
      const info = cpuInfo();
      const backend = await initFloatBackend();
      process.stdout.write(
        `cpu:           ${info.brand || info.vendor} (${info.availableCores} cores)\n` +
          `int8 paths:    ${supportedIsas().join(', ')} (using ${getIsa()})\n` +
          `threads:       ${getThreads()}\n` +
          `float backend: ${describeFloatBackend(backend)}\n`,
      );
      void rest;
      return 0;
    }
    case 'inspect': {
      const { inspectCommand } = await import('./inspect.js');
      return inspectCommand(rest);
    }
    case 'convert': {
      const { convertCommand } = await import('./convert.js');
      return convertCommand(rest);
    }
    case 'bench': {
      const { benchCommand } = await import('./bench.js');
      return benchCommand(rest);
    }
    case 'demo': {
      const { demoCommand } = await import('./demo.js');
      return demoCommand(rest);
    }
    default:
      process.stderr.write(`tfjs-quant: unknown command '${cmd}'\n\n${USAGE}`);
      return 2;
  }
}

// tfjs-quant command line. Exit codes: 0 ok, 1 some work failed, 2 usage error.
import { processIO, type CommandIO } from './args.js';
import { cpuInfo, getIsa, getThreads, supportedIsas } from '../native/cpu.js';
import { describeFloatBackend, initFloatBackend } from '../backend/float.js';
import { toolVersion } from '../model/version.js';

const COMMANDS = ['info', 'inspect', 'convert', 'bench', 'demo', 'run'];

const USAGE = `Usage: tfjs-quant <command> [options]     (tfjs-quant <command> --help for its options)

Commands:
  info        Show the CPU, the int8 kernel paths and the float backend in use
  inspect     Show a model: format, inputs/outputs, ops, parameters, int8 coverage
  convert     Convert models in batch (dynamic, int8, float16, compress) with a report
  compress    Deep Compression with retraining of a layers model on .npy data (one tfjs-quant file)
  bench       Latency and throughput: native runtime vs tfjs float backends
  demo        Train a small model on MNIST digits, convert it every way, compare
  run         Run a model once on .npy inputs; print and write its outputs
  serve       Serve models over TF Serving's REST API with dynamic batching
  worker      Convert models queued by 'convert --queue' (Redis, BullMQ)
  help        Show this help (help <command>: that command's options)

Options: --version (-V) prints the version.

Exit codes: 0 ok, 1 some work failed, 2 usage error, 130 interrupted (docs/cli.md).
`;

export async function main(argv: string[], io: CommandIO = processIO): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case '--version':
    case '-V':
      io.stdout(`${toolVersion()}\n`);
      return 0;
    case 'help':
      // `help <command>` is `<command> --help`.
      if (rest[0] && COMMANDS.includes(rest[0])) return main([rest[0], '--help'], io);
      io.stdout(USAGE);
      return 0;
    case undefined:
    case '--help':
    case '-h':
      io.stdout(USAGE);
      return cmd === undefined ? 2 : 0;
    case 'info': {
      const info = cpuInfo();
      const backend = await initFloatBackend();
      io.stdout(
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
      return inspectCommand(rest, io);
    }
    case 'convert': {
      const { convertCommand } = await import('./convert.js');
      return convertCommand(rest, io);
    }
    case 'compress': {
      const { compressCommand } = await import('./compress.js');
      return compressCommand(rest, io);
    }
    case 'bench': {
      const { benchCommand } = await import('./bench.js');
      return benchCommand(rest, io);
    }
    case 'demo': {
      const { demoCommand } = await import('./demo.js');
      return demoCommand(rest, io);
    }
    case 'run': {
      const { runCommand } = await import('./run.js');
      return runCommand(rest, io);
    }
    case 'serve':
      return (await import('./serve.js')).serveCommand(rest, io);
    case 'worker': {
      const { workerCommand } = await import('./worker.js');
      return workerCommand(rest, io);
    }
    default:
      io.stderr(`tfjs-quant: unknown command '${cmd}'\n\n${USAGE}`);
      return 2;
  }
}

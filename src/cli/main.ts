// tfjs-quant command line on commander: the top level (commands, --version, help, typo
// suggestions for unknown commands) is a commander program; each command parses its own
// arguments from its flag table (args.ts), so `tfjs-quant help X` and `X --help` print the same.
// Exit codes (docs/cli.md): 0 ok, 1 some work failed, 2 usage error, 3 convert --strict with a
// degraded model, 130 interrupted.
import { Command, CommanderError } from 'commander';
import { processIO, type CommandIO } from './args.js';
import { toolVersion } from '../model/version.js';

type Run = (args: string[], io: CommandIO) => Promise<number>;

/** Commands in help order, each loaded only when run (a command's imports can be heavy). */
const COMMANDS: { name: string; summary: string; run: Run }[] = [
  {
    name: 'info',
    summary: 'Show the CPU, the int8 kernel paths and the float backend in use',
    run: async (a, io) => (await import('./info.js')).infoCommand(a, io),
  },
  {
    name: 'inspect',
    summary: 'Show a model: format, inputs/outputs, ops, parameters, int8 coverage',
    run: async (a, io) => (await import('./inspect.js')).inspectCommand(a, io),
  },
  {
    name: 'convert',
    summary: 'Convert models in batch (dynamic, int8, float16, compress) with a report',
    run: async (a, io) => (await import('./convert.js')).convertCommand(a, io),
  },
  {
    name: 'compress',
    summary: 'Deep Compression with retraining of a layers model on .npy data (one tfjs-quant file)',
    run: async (a, io) => (await import('./compress.js')).compressCommand(a, io),
  },
  {
    name: 'bench',
    summary: 'Latency and throughput: native runtime vs tfjs float backends',
    run: async (a, io) => (await import('./bench.js')).benchCommand(a, io),
  },
  {
    name: 'demo',
    summary: 'Train a small model on MNIST digits, convert it every way, compare',
    run: async (a, io) => (await import('./demo.js')).demoCommand(a, io),
  },
  {
    name: 'run',
    summary: 'Run a model once on .npy inputs; print and write its outputs',
    run: async (a, io) => (await import('./run.js')).runCommand(a, io),
  },
  {
    name: 'serve',
    summary: "Serve models over TF Serving's REST API with dynamic batching",
    run: async (a, io) => (await import('./serve.js')).serveCommand(a, io),
  },
  {
    name: 'worker',
    summary: "Convert models queued by 'convert --queue' (Redis, BullMQ)",
    run: async (a, io) => (await import('./worker.js')).workerCommand(a, io),
  },
];

const EXIT_CODES =
  'Exit codes: 0 ok, 1 some work failed, 2 usage error, 3 convert --strict with a degraded model, 130 interrupted (docs/cli.md).';

/**
 * The top-level program. Commands take their arguments raw (each parses its own flags); the
 * program only picks the command, so it accepts its own options before the command alone.
 */
function program(io: CommandIO, picked: { command?: string; help?: string }): Command {
  const p = new Command('tfjs-quant')
    .usage('<command> [options]')
    .description(
      "Quantize, compress and run TensorFlow.js models natively. `tfjs-quant <command> --help` lists a command's options.",
    )
    .version(toolVersion(), '-V, --version', 'Print the version')
    .helpOption('-h, --help', 'Show this help')
    .helpCommand(false)
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (s, write) => write(`tfjs-quant: ${s.replace(/^error: /, '')}`),
    })
    .addHelpText('after', `\n${EXIT_CODES}\n`);
  for (const c of COMMANDS) {
    p.command(c.name)
      .description(c.summary)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .passThroughOptions()
      .action(() => {
        picked.command = c.name;
      });
  }
  p.command('help')
    .description("Show this help (help <command>: that command's options)")
    .argument('[command]')
    .action((name?: string) => {
      picked.help = name ?? '';
    });
  return p;
}

export async function main(argv: string[], io: CommandIO = processIO): Promise<number> {
  const picked: { command?: string; help?: string } = {};
  const p = program(io, picked);
  if (argv.length === 0) {
    // No command is a usage error: the overview goes to stderr.
    p.outputHelp({ error: true });
    return 2;
  }
  try {
    p.parse(argv, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    // Help and version were printed and are successes; every other commander error is a usage error it printed.
    return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
  }
  if (picked.help !== undefined) {
    // `help <command>` is `<command> --help`; `help <typo>` gets the unknown-command suggestion.
    if (picked.help === '') {
      p.outputHelp();
      return 0;
    }
    return COMMANDS.some((c) => c.name === picked.help) ? main([picked.help, '--help'], io) : main([picked.help], io);
  }
  const command = COMMANDS.find((c) => c.name === picked.command);
  if (!command) throw new Error(`internal: no command picked from [${argv.join(' ')}]`);
  // Everything after the command name, as typed.
  return command.run(argv.slice(argv.indexOf(command.name) + 1), io);
}

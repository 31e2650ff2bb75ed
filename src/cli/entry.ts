// The executable's entry (bin/tfjs-quant.js loads the compiled form): runs main() and sets
// the exit code; an unexpected error prints its stack and exits 1.
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code ?? 0;
  },
  (err: unknown) => {
    console.error((err as Error)?.stack ?? String(err));
    process.exitCode = 1;
  },
);

// A/B of addon builds for the bench/quant scripts: each round runs the calling script once per
// build in a child process of its own (one addon per process, never two in one), the builds
// alternating, so a busy period of a shared machine hits every build alike. The child reports
// one JSON line after RESULT_MARK (libraries may print to stdout too).
import { execFileSync } from 'node:child_process';

const CHILD_ENV = 'TFJQ_AB_CHILD';
const RESULT_MARK = 'TFJQ_AB_RESULT ';

/** Whether this process is a child started by runAlternated. */
export function isAbChild(): boolean {
  return process.env[CHILD_ENV] === '1';
}

/** A child's result, for runAlternated to read. */
export function reportToParent(result: unknown): void {
  process.stdout.write(`\n${RESULT_MARK}${JSON.stringify(result)}\n`);
}

/**
 * Runs `script args` once per build per round (builds alternating), each with
 * TFJS_QUANT_ADDON set to the build (none: the default addon, one build), and returns each
 * build's results in round order.
 */
export function runAlternated<T>(script: string, args: string[], addons: string[], rounds: number): T[][] {
  const builds = addons.length ? addons : [undefined];
  const out: T[][] = builds.map(() => []);
  for (let r = 0; r < rounds; r++) {
    builds.forEach((addon, bi) => {
      const env: NodeJS.ProcessEnv = { ...process.env, [CHILD_ENV]: '1' };
      if (addon) env.TFJS_QUANT_ADDON = addon;
      const text = execFileSync(process.execPath, ['--import', 'tsx', script, ...args], { env, encoding: 'utf8' });
      const line = text.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (!line) throw new Error(`${script} (build ${addon ?? 'default'}) reported no result:\n${text.slice(-2000)}`);
      out[bi]!.push(JSON.parse(line.slice(RESULT_MARK.length)) as T);
    });
    process.stderr.write(`round ${r + 1}/${rounds} done\n`);
  }
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** "median (min–max)" with `digits` decimals. */
export function spread(xs: number[], digits: number): string {
  return `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
}

// The per-seed table and the mean ± spread of bench/deep-compression (run.ts writes it for the
// seeds of one process, combine.ts for seeds run as separate processes).

export interface SeedResult {
  seed: number;
  /** Float32 bytes of every weight / bytes of the saved files. */
  ratio: number;
  /** Float32 bytes / the streams and raw tensors alone (no model.json). */
  streamRatio: number;
  fileBytes: number;
  /** Test accuracy of the float baseline and of the saved file in InferenceSession. */
  baseline: number;
  compressed: number;
  valBaseline: number;
  valFinal: number;
  sparsity: Record<string, number>;
  secs: number;
}

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
/** Sample standard deviation (n − 1). */
const sd = (a: number[]) =>
  a.length < 2 ? 0 : Math.sqrt(a.reduce((s, v) => s + (v - mean(a)) ** 2, 0) / (a.length - 1));

export function summaryTable(results: SeedResult[], testDigits: number): string[] {
  const pm = (a: number[], digits: number) => `${mean(a).toFixed(digits)} ± ${sd(a).toFixed(digits)}`;
  const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;
  const change = results.map((x) => 100 * (x.baseline - x.compressed));
  return [
    '| seed | kept per layer | saved bytes | compression (files) | streams only | validation acc float → final | test error float → compressed | change (points) |',
    '| ---: | --- | ---: | ---: | ---: | --- | --- | ---: |',
    ...results.map(
      (x) =>
        `| ${x.seed} | ${Object.entries(x.sparsity)
          .map(([l, s]) => `${l} ${(100 * (1 - s)).toFixed(0)}%`)
          .join(', ')} | ${x.fileBytes} | ` +
        `${x.ratio.toFixed(1)}× | ${x.streamRatio.toFixed(1)}× | ${(100 * x.valBaseline).toFixed(2)}% → ${(100 * x.valFinal).toFixed(2)}% | ` +
        `${(100 * (1 - x.baseline)).toFixed(2)}% → ${(100 * (1 - x.compressed)).toFixed(2)}% | ${signed(100 * (x.baseline - x.compressed))} |`,
    ),
    '',
    `**Mean ± standard deviation over ${results.length} seeds: compression ${pm(
      results.map((x) => x.ratio),
      1,
    )}×, ` +
      `test error change ${signed(mean(change))} ± ${sd(change).toFixed(2)} points** (float test error ${pm(
        results.map((x) => 100 * (1 - x.baseline)),
        2,
      )}%). ` +
      `On ${testDigits} test digits one digit is ${(100 / testDigits).toFixed(2)} points.`,
    '',
  ];
}

/** `--out FILE run-s2.md run-s3.md …` of combine.ts and test-saved.ts: the output and the per-seed runs. */
export function outAndRuns(args: readonly string[], what: string): { outFile: string; runs: string[] } {
  const oi = args.indexOf('--out');
  if (oi < 0 || !args[oi + 1]) throw new RangeError('give --out FILE');
  const runs = args.filter((_, i) => i !== oi && i !== oi + 1);
  if (runs.length === 0) throw new RangeError(`give ${what}`);
  return { outFile: args[oi + 1]!, runs };
}

// Reads the test split, once, for runs of run.ts made with --validation-only --save-dir: the
// recipe is chosen on those runs' validation figures, then only the chosen runs' saved files
// are tested here (the same measurement run.ts makes at its end: the file in InferenceSession,
// the float baseline from the baseline cache). Joins the runs like combine.ts, test filled in.
//
//   npx tsx bench/deep-compression/test-saved.ts --out RESULTS.md run-s2.md run-s3.md ...
//
// Each run-sN.md is run.ts's --out file; its log (same name, .log) holds the RESULT line,
// which names the model, the saved file's folder and the baseline cache.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadMnist } from '../../src/data/mnist.js';
import { buildLeNet300100, buildLeNet5, evaluateAccuracy } from '../../src/data/models.js';
import { outAndRuns, summaryTable, type SeedResult } from './summary.js';
import { floatBackend, loadBaseline, SPLIT, testSavedFile } from './test-split.js';

const args = process.argv.slice(2);
const { outFile, runs } = outAndRuns(args, 'the per-seed .md files of validation-only runs');

type Saved = SeedResult & { model: 'lenet300' | 'lenet5'; savedDir: string; baselineCache: string };
const results: SeedResult[] = [];
const sections: string[] = [];
let header: string[] = [];
let backend = '';
for (const md of runs) {
  const text = readFileSync(md, 'utf8').split('\n');
  const logFile = md.replace(/\.md$/, '.log');
  const lines = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes(' RESULT '));
  if (lines.length === 0) throw new RangeError(`${logFile} has no RESULT line (run not finished?)`);
  for (const l of lines) {
    const r = JSON.parse(l.slice(l.indexOf(' RESULT ') + 8)) as Saved;
    if (!r.savedDir || !r.baselineCache)
      throw new RangeError(`${logFile}: the run kept no file (run it with --save-dir and --baseline-cache)`);
    backend ||= await floatBackend(r.model);
    const data = loadMnist({ trainSize: SPLIT.train + SPLIT.validation, testSize: SPLIT.test, seed: r.seed });
    const test = await testSavedFile(r.savedDir, data.xTest, data.labelsTest);
    const base = (r.model === 'lenet300' ? buildLeNet300100 : buildLeNet5)({ seed: r.seed, weightDecay: 5e-4 });
    loadBaseline(base, r.baselineCache);
    const baseline = evaluateAccuracy(base, data.xTest, data.labelsTest);
    data.dispose();
    const { model: _m, savedDir: _d, baselineCache: _c, ...seed } = r;
    results.push({ ...seed, baseline, compressed: test.accuracy });
    console.log(
      `${r.model} seed ${r.seed}: test float ${(100 * baseline).toFixed(2)}% → saved file ${(100 * test.accuracy).toFixed(2)}% (${test.sparseNodes} node(s) on sparse kernels)`,
    );
    const at = text.findIndex((t) => t.startsWith(`### seed ${r.seed}`));
    const next = text.findIndex((t, i) => i > at && t.startsWith('### seed'));
    const section = text.slice(at, next < 0 ? undefined : next);
    sections.push(
      ...section.map((t) =>
        t.replace(
          'Test split not read (--validation-only). ',
          `Test (once, after the recipe was chosen on validation; test-saved.ts): float ${(100 * baseline).toFixed(2)}% → saved file in InferenceSession ${(100 * test.accuracy).toFixed(2)}% (${test.sparseNodes} node(s) on sparse kernels). `,
        ),
      ),
    );
  }
  if (header.length === 0)
    header = text.slice(
      0,
      text.findIndex((l) => l.startsWith('| seed |')),
    );
}
results.sort((a, b) => a.seed - b.seed);
header = header.map((l) =>
  l.replace('Test split not read (--validation-only). ', 'Test split read once per seed, by test-saved.ts. '),
);
header.splice(3, 0, `Test read by \`npx tsx bench/deep-compression/test-saved.ts --out ${outFile} ${runs.join(' ')}\``);
writeFileSync(outFile, [...header, ...summaryTable(results, SPLIT.test), ...sections].join('\n'));
console.log(`wrote ${outFile}: ${results.length} seeds; ${backend}`);

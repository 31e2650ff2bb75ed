// Joins per-seed runs of run.ts made as separate processes (one seed each, in parallel on a
// shared machine) into one RESULTS file with the mean ± spread over the seeds.
//
//   npx tsx bench/deep-compression/combine.ts --out RESULTS.md run-s2.md run-s3.md ...
//
// Each run-sN.md is run.ts's --out file; its log (same name, .log) holds the RESULT line.
import { readFileSync, writeFileSync } from 'node:fs';
import { outAndRuns, summaryTable, type SeedResult } from './summary.js';

const args = process.argv.slice(2);
const { outFile, runs } = outAndRuns(args, 'the per-seed .md files');

const results: SeedResult[] = [];
const sections: string[] = [];
const commands: string[] = [];
let header: string[] = [];
for (const md of runs) {
  const text = readFileSync(md, 'utf8').split('\n');
  const log = readFileSync(md.replace(/\.md$/, '.log'), 'utf8');
  const lines = log.split('\n').filter((l) => l.includes(' RESULT '));
  if (lines.length === 0) throw new RangeError(`${md.replace(/\.md$/, '.log')} has no RESULT line (run not finished?)`);
  for (const l of lines) results.push(JSON.parse(l.slice(l.indexOf(' RESULT ') + 8)) as SeedResult);
  const table = text.findIndex((l) => l.startsWith('| seed |'));
  if (header.length === 0) header = text.slice(0, table);
  commands.push(...text.filter((l) => l.startsWith('Command: ')).map((l) => l.slice('Command: '.length)));
  sections.push(...text.slice(text.findIndex((l) => l.startsWith('### seed'))));
}
results.sort((a, b) => a.seed - b.seed);
header = header.filter((l) => !l.startsWith('Command: '));
header.splice(
  3,
  0,
  `Commands (one process per seed, run at the same time): ${commands.join('; ')}; joined by \`npx tsx bench/deep-compression/combine.ts --out ${outFile} ${runs.join(' ')}\``,
);
const testDigits = 2000;
writeFileSync(outFile, [...header, ...summaryTable(results, testDigits), ...sections].join('\n'));
console.log(`wrote ${outFile}: ${results.length} seeds`);

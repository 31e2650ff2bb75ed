#!/usr/bin/env node
// Rebuilds bench/RESULTS.md from the per-topic result files written by the bench scripts
// (bench/<topic>/RESULTS-*.md) and the hand-written verification notes (bench/notes/*.md),
// in a fixed order, each topic's headings demoted one level. Usage: node scripts/collect-results.mjs
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const parts = [
  ['issue 2 — int8 GEMM', 'bench/gemm/RESULTS-gemm.md'],
  ['issue 2 — quantization kernels', 'bench/quant/RESULTS-quant.md'],
  ['issue 5 — operator kernels', 'bench/ops/RESULTS-ops.md'],
  ['issue 5 — whole models in the native runtime', 'bench/models/RESULTS-models.md'],
  ['issue 5 — against ONNX Runtime on this machine', 'bench/models/RESULTS-peers.md'],
  ['issue 5 — session soak', 'bench/models/RESULTS-soak.md'],
  ['issue 4 — post-training quantization', 'bench/calib/RESULTS-calib.md'],
  ['issue 10 — 4-bit weights', 'bench/int4/RESULTS-int4.md'],
  ['issue 7 — quantization-aware training', 'bench/qat/RESULTS-qat.md'],
  ['issue 7 — training kernels', 'bench/train/RESULTS-train.md'],
  ['issue 6 — Deep Compression', 'bench/deep-compression/RESULTS-deep-compression.md'],
  ['issue 6 — sparse kernels for pruned weights', 'bench/sparse/RESULTS-sparse.md'],
  ['issue 8 — batch conversion of a zoo', 'bench/zoo/RESULTS-zoo.md'],
  ['issue 9 — hardening', 'bench/notes/hardening.md'],
  ['issue 3 — model I/O', 'bench/notes/model-io.md'],
];
const head = `# Benchmark results

Every figure below was produced by a script in \`bench/\` (the command is given with each
table) and collected here by \`node scripts/collect-results.mjs\`. Machine for all of them:
**AMD EPYC (Zen 3), 2 cores, AVX2 + FMA + F16C, no AVX-512, no AVX-VNNI**, Node 20.20,
tfjs 4.22. Float backend: **tfjs-backend-wasm** (SIMD, single-threaded in Node; tfjs-node
cannot install here). The machine was shared with other work while most of these ran (each
section states its load); ratios measured side by side in one run are the reliable part. The
AVX-512 VNNI and AVX-VNNI kernels were verified bit-exact under SIMDe emulation but have not
been timed on real hardware.

${parts.filter(([, f]) => existsSync(root + f)).map(([t, f]) => `- ${t}: [${f}](${f.replace(/^bench\//, '')})`).join('\n')}
`;
const body = parts.filter(([, f]) => existsSync(root + f)).map(([, f]) => {
  const text = readFileSync(root + f, 'utf8').trim();
  return text.replace(/^(#+) /gm, '#$1 ');
});
writeFileSync(root + 'bench/RESULTS.md', [head, ...body].join('\n\n---\n\n') + '\n');
console.log(`bench/RESULTS.md: ${body.length} sections`);

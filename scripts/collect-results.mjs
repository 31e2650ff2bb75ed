#!/usr/bin/env node
// Rebuilds bench/RESULTS.md from the per-topic result files written by the bench scripts
// (bench/<topic>/RESULTS-*.md) and the hand-written verification notes (bench/notes/*.md),
// in a fixed order, each topic's headings demoted one level. Usage: node scripts/collect-results.mjs
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const parts = [
  ['published models: load, convert, run, fidelity, speed (the zoo)', 'bench/zoo/RESULTS-zoo.md'],
  [
    'published models on AMD Zen 5 with AVX-512 VNNI (the zoo, int8, dynamic and 4-bit)',
    'bench/zoo/RESULTS-zoo-zen5.md',
  ],
  ['published models on AMD Zen 4 with AVX-512 VNNI (the zoo, int8)', 'bench/zoo/RESULTS-zoo-zen4.md'],
  ['published models on AMD Zen 3 with AVX2 only (the zoo, int8)', 'bench/zoo/RESULTS-zoo-avx2.md'],
  [
    'published models calibrated and evaluated on real photographs (the zoo, int8, held-out people)',
    'bench/zoo/RESULTS-zoo-photos.md',
  ],
  ['synthetic pictures against real photographs, model by model', 'bench/zoo/RESULTS-pictures.md'],
  ['published models before this work (baseline)', 'bench/zoo/RESULTS-zoo-baseline.md'],
  ['converter fidelity on published models, before and after the guard', 'bench/notes/fidelity.md'],
  [
    'which precision each published model can take (int8 / bfloat16 weights and activations)',
    'bench/zoo/RESULTS-precision.md',
  ],
  ['int8 GEMM (with oneDNN)', 'bench/gemm/RESULTS-gemm.md'],
  ['against ONNX Runtime, each engine alone in its process', 'bench/models/RESULTS-peers.md'],
  ['a published model against ONNX Runtime, the same integers', 'bench/models/RESULTS-peers-published.md'],
  ['whole models in the native runtime', 'bench/models/RESULTS-models.md'],
  ['serving over HTTP (tfjs-quant serve)', 'bench/serve/RESULTS.md'],
  ['a zoo converted through the queue', 'bench/zoo/RESULTS-queue.md'],
  ['batch conversion of repository-written models', 'bench/zoo/RESULTS-batch-synthetic.md'],
  ['quantization kernels', 'bench/quant/RESULTS-quant.md'],
  ['operator kernels', 'bench/ops/RESULTS-ops.md'],
  ['depthwise channel tails and transposed convolution, before and after', 'bench/ops/RESULTS-dw-deconv.md'],
  [
    'dynamic int8 against float for one convolution (the narrow-layer threshold)',
    'bench/ops/RESULTS-dynamic-vs-float.md',
  ],
  ['session soak', 'bench/models/RESULTS-soak.md'],
  ['post-training quantization (calibration)', 'bench/calib/RESULTS-calib.md'],
  ['4-bit weights', 'bench/int4/RESULTS-int4.md'],
  ['quantization-aware training', 'bench/qat/RESULTS-qat.md'],
  ['training kernels', 'bench/train/RESULTS-train.md'],
  ['Deep Compression (held-out protocol)', 'bench/deep-compression/RESULTS-deep-compression.md'],
  ['sparse kernels for pruned weights', 'bench/sparse/RESULTS-sparse.md'],
  ['does a rounding bug get caught (independent reference)', 'bench/notes/reference-check.md'],
  ['a rounding bug in the native requantize: which tests fail', 'bench/notes/rounding-mutation.md'],
  ['hardening', 'bench/notes/hardening.md'],
  ['model I/O', 'bench/notes/model-io.md'],
  ['installing without a compiler, the arm64 prebuild, the CLI', 'bench/notes/install.md'],
];
const head = `# Benchmark results

Every figure below was produced by a script in \`bench/\` (the command is given with each
table) and collected here by \`node scripts/collect-results.mjs\`. The machines differ between
sections: each names its CPU, its instruction set and the float backend it compared with.
Earlier sections were measured on an **AMD EPYC (Zen 3), AVX2 only**; those of 2026-12-06 on an
**Intel Xeon (Sapphire/Emerald Rapids) with AVX-512 VNNI**, 2 cores; the int8 GEMM with oneDNN,
the ONNX Runtime comparison of MobileNetV2-style 224 and the Zen 5 zoo of 2026-12-07 (after
08:30 UTC) on an **AMD EPYC Zen 5 (Turin) with AVX-512 VNNI**, 2 vCPUs of a shared host. The zoo, the ONNX Runtime
comparison and the serving benchmark were re-run after 17:17 UTC on a quiet machine (load ≤ 1.4
before each); the kernel notes (GEMM, dynamic quantization, AVX-512 operators) were measured
while other jobs shared the cores (load 3–27), by per-step minima or alternated builds, as each
note says. The AVX2 zoo and the photographs zoo of 2026-12-07 after 21:20 UTC ran on an
**AMD EPYC (Zen 3, family 25 model 1), AVX2 only**, 2 vCPUs. The Zen 4 zoo, the int8 GEMM's
and the ONNX Runtime comparisons' first sections and the dynamic-vs-float table of 2026-12-08 ran
on an **AMD EPYC Zen 4 (family 25 model 17) with AVX-512 VNNI**, 2 vCPUs of a busy shared host.
Node 20.20, tfjs 4.22; float backend **tfjs-backend-wasm** (SIMD, single-threaded in Node;
tfjs-node cannot install here) unless a section says otherwise.

${parts
  .filter(([, f]) => existsSync(root + f))
  .map(([t, f]) => `- ${t}: [${f}](${f.replace(/^bench\//, '')})`)
  .join('\n')}
`;
const body = parts
  .filter(([, f]) => existsSync(root + f))
  .map(([, f]) => {
    const text = readFileSync(root + f, 'utf8').trim();
    return text.replace(/^(#+) /gm, '#$1 ');
  });
writeFileSync(root + 'bench/RESULTS.md', [head, ...body].join('\n\n---\n\n') + '\n');
console.log(`bench/RESULTS.md: ${body.length} sections`);

// Per-layer sensitivity analysis (Han et al., "Learning both Weights and Connections", §3.3,
// and Deep Compression §2): prune one layer alone by magnitude, without retraining, at a
// ladder of sparsities, and measure the accuracy on held-out (validation) data; every other
// layer stays as trained. A layer's sparsity is then the highest rung whose accuracy loss stays
// within the budget. The scan is returned whole so a report can chart accuracy against sparsity.
import { tf } from '../backend/float.js';
import { assertFinite } from '../native/validate.js';
import { magnitudeMask } from './masks.js';
import { prunableWeights } from './prune.js';
import { assertSparsity } from './schedule.js';

/** The default ladder: coarse where layers rarely fail, fine where the budget usually binds. */
export const SENSITIVITY_SPARSITIES: readonly number[] = [
  0.5, 0.6, 0.7, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98,
];

export interface SensitivityPoint {
  sparsity: number;
  accuracy: number;
}

export interface LayerSensitivity {
  layer: string;
  weights: number;
  /** Accuracy with this layer pruned alone, per rung, ascending sparsity. */
  points: SensitivityPoint[];
  /**
   * With rule 'monotone': the non-increasing least-squares fit of points' accuracies (pool
   * adjacent violators), what the choice was made on.
   */
  fitted?: number[];
  /** Highest rung within the budget (the floor when even the lowest rung scanned loses more). */
  chosen: number;
  /** Why the layer was not pruned further: it holds too small a share of the weights to matter for size. */
  kept?: 'small';
}

export interface SensitivityScan {
  /** Validation accuracy of the unpruned model. */
  baseline: number;
  maxAccuracyDrop: number;
  layers: LayerSensitivity[];
}

export interface SensitivityOptions {
  /** Accuracy of a model on held-out data (never the test data you report). */
  evaluate: (model: tf.LayersModel) => number | Promise<number>;
  /** Accuracy a layer may lose when pruned alone (a fraction: 0.001 = 0.1 point). */
  maxAccuracyDrop: number;
  sparsities?: readonly number[];
  /** Layers to scan (default: every layer with a prunable kernel). */
  layers?: readonly string[];
  onProgress?: (layer: string, point: SensitivityPoint) => void;
  /**
   * How a layer's rung is chosen. 'first-failure' (default): the highest rung below the first
   * one over budget. 'monotone': the highest rung whose accuracy on the non-increasing fit of
   * the whole curve (pool adjacent violators) is within budget — a single noisy rung, high or
   * low, on a small validation split then neither stops the ladder early nor carries it on.
   */
  rule?: 'first-failure' | 'monotone';
  /**
   * Layers holding less than this fraction of the scanned layers' weights are not pruned
   * (chosen = their floor): their bytes hardly count towards the size while their accuracy
   * (an input convolution, an output layer) is the most fragile. Default 0: every layer.
   */
  minLayerShare?: number;
  /**
   * Per layer, the sparsity it already has (iterative pruning: the scan of a pruned, retrained
   * model). Only rungs above it are tried and the choice is at least it. Default 0.
   */
  floor?: Readonly<Record<string, number>>;
}

/**
 * The non-increasing least-squares fit of `values` (pool adjacent violators): each run of
 * values that rises is replaced by its mean, until the sequence never rises.
 */
export function nonIncreasingFit(values: readonly number[]): number[] {
  const blocks: { sum: number; n: number }[] = [];
  for (const v of values) {
    blocks.push({ sum: v, n: 1 });
    while (blocks.length > 1) {
      const b = blocks[blocks.length - 1]!,
        a = blocks[blocks.length - 2]!;
      if (a.sum / a.n >= b.sum / b.n) break;
      a.sum += b.sum;
      a.n += b.n;
      blocks.pop();
    }
  }
  return blocks.flatMap((b) => new Array<number>(b.n).fill(b.sum / b.n));
}

/**
 * Scans every prunable layer of `model`. The model's weights are restored after each rung
 * (they are left exactly as they were).
 */
export async function sensitivityScan(model: tf.LayersModel, o: SensitivityOptions): Promise<SensitivityScan> {
  if (typeof o?.evaluate !== 'function')
    throw new TypeError('sensitivity analysis needs evaluate(model) on validation data');
  assertFinite(o.maxAccuracyDrop, 'maxAccuracyDrop');
  if (!(o.maxAccuracyDrop >= 0 && o.maxAccuracyDrop < 1))
    throw new RangeError(`maxAccuracyDrop must be in [0, 1), got ${o.maxAccuracyDrop}`);
  const ladder = [...(o.sparsities ?? SENSITIVITY_SPARSITIES)];
  if (ladder.length === 0) throw new RangeError('sparsities must not be empty');
  ladder.forEach((s, i) => assertSparsity(s, `sparsities[${i}]`));
  ladder.sort((a, b) => a - b);
  const kernels = prunableWeights(model);
  if (o.layers) {
    for (const l of o.layers)
      if (!kernels.some((k) => k.layerName === l)) throw new RangeError(`layer '${l}' has no prunable kernel`);
  }
  const chosenKernels = o.layers ? kernels.filter((k) => o.layers!.includes(k.layerName)) : kernels;
  const rule = o.rule ?? 'first-failure';
  if (rule !== 'first-failure' && rule !== 'monotone')
    throw new RangeError(`rule must be 'first-failure' or 'monotone', got '${String(rule)}'`);
  const minShare = o.minLayerShare ?? 0;
  assertFinite(minShare, 'minLayerShare');
  if (!(minShare >= 0 && minShare < 1)) throw new RangeError(`minLayerShare must be in [0, 1), got ${minShare}`);
  for (const [name, f] of Object.entries(o.floor ?? {})) {
    assertSparsity(f, `floor['${name}']`);
    if (!kernels.some((k) => k.layerName === name))
      throw new RangeError(`floor names '${name}', which has no prunable kernel`);
  }
  const total = chosenKernels.reduce((n, k) => n + k.variable.read().size, 0);
  const baseline = await o.evaluate(model);
  const layers: LayerSensitivity[] = [];
  for (const k of chosenKernels) {
    const floor = o.floor?.[k.layerName] ?? 0;
    const size = k.variable.read().size;
    if (size < minShare * total) {
      layers.push({ layer: k.layerName, weights: size, points: [], chosen: floor, kept: 'small' });
      continue;
    }
    const original = k.variable.read().clone();
    const values = original.dataSync() as Float32Array;
    const points: SensitivityPoint[] = [];
    try {
      for (const s of ladder.filter((r) => r > floor)) {
        const mask = magnitudeMask(values, s);
        const pruned = values.map((v, i) => (mask[i] ? v : 0));
        const t = tf.tensor(pruned, original.shape, 'float32');
        k.variable.write(t);
        t.dispose();
        const point = { sparsity: s, accuracy: await o.evaluate(model) };
        points.push(point);
        o.onProgress?.(k.layerName, point);
      }
    } finally {
      k.variable.write(original);
      original.dispose();
    }
    let chosen = floor;
    if (rule === 'monotone') {
      const fitted = nonIncreasingFit(points.map((p) => p.accuracy));
      fitted.forEach((a, i) => {
        if (baseline - a <= o.maxAccuracyDrop) chosen = points[i]!.sparsity;
      });
      layers.push({ layer: k.layerName, weights: values.length, points, fitted, chosen });
      continue;
    }
    // The highest rung within budget among the rungs below the first one that fails: a layer
    // that fails at 90% and passes at 92% by noise is not trusted at 92%.
    for (const p of points) {
      if (baseline - p.accuracy > o.maxAccuracyDrop) break;
      chosen = p.sparsity;
    }
    layers.push({ layer: k.layerName, weights: values.length, points, chosen });
  }
  return { baseline, maxAccuracyDrop: o.maxAccuracyDrop, layers };
}

/**
 * The scan as a Markdown table: accuracy per layer and rung (rungs a layer skipped, below its
 * floor, shown as –), the chosen sparsity in the last column and its rung in bold.
 */
export function formatSensitivity(scan: SensitivityScan): string {
  const rungs = [...new Set(scan.layers.flatMap((l) => l.points.map((p) => p.sparsity)))].sort((a, b) => a - b);
  const pct = (s: number) => `${(100 * s).toFixed(0)}%`;
  const lines = [
    `Validation accuracy with one layer pruned alone (baseline ${(100 * scan.baseline).toFixed(2)}%, budget −${(100 * scan.maxAccuracyDrop).toFixed(2)} points; chosen in bold):`,
    '',
    `| layer | weights | ${rungs.map(pct).join(' | ')} | chosen |`,
    `| --- | ---: | ${rungs.map(() => '---:').join(' | ')} | ---: |`,
  ];
  for (const l of scan.layers) {
    const cells = rungs.map((r) => {
      const p = l.points.find((q) => q.sparsity === r);
      if (!p) return '–';
      const v = `${(100 * p.accuracy).toFixed(2)}`;
      return p.sparsity === l.chosen ? `**${v}**` : v;
    });
    const chosen = `${pct(l.chosen)}${l.kept === 'small' ? ' (small layer, not scanned)' : ''}`;
    lines.push(`| ${l.layer} | ${l.weights} | ${cells.join(' | ')} | ${chosen} |`);
  }
  return lines.join('\n');
}

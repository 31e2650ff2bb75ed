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
  /** Highest rung within the budget (0 when even the lowest rung loses more). */
  chosen: number;
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
  const baseline = await o.evaluate(model);
  const layers: LayerSensitivity[] = [];
  for (const k of chosenKernels) {
    const original = k.variable.read().clone();
    const values = original.dataSync() as Float32Array;
    const points: SensitivityPoint[] = [];
    try {
      for (const s of ladder) {
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
    // The highest rung within budget among the rungs below the first one that fails: a layer
    // that fails at 90% and passes at 92% by noise is not trusted at 92%.
    let chosen = 0;
    for (const p of points) {
      if (baseline - p.accuracy > o.maxAccuracyDrop) break;
      chosen = p.sparsity;
    }
    layers.push({ layer: k.layerName, weights: values.length, points, chosen });
  }
  return { baseline, maxAccuracyDrop: o.maxAccuracyDrop, layers };
}

/** The scan as a Markdown table: accuracy per layer and rung, the chosen rung in bold. */
export function formatSensitivity(scan: SensitivityScan): string {
  const rungs = scan.layers[0]?.points.map((p) => p.sparsity) ?? [];
  const lines = [
    `Validation accuracy with one layer pruned alone (baseline ${(100 * scan.baseline).toFixed(2)}%, budget −${(100 * scan.maxAccuracyDrop).toFixed(2)} points; chosen in bold):`,
    '',
    `| layer | weights | ${rungs.map((s) => `${(100 * s).toFixed(0)}%`).join(' | ')} |`,
    `| --- | ---: | ${rungs.map(() => '---:').join(' | ')} |`,
  ];
  for (const l of scan.layers) {
    const cells = l.points.map((p) => {
      const v = `${(100 * p.accuracy).toFixed(2)}`;
      return p.sparsity === l.chosen ? `**${v}**` : v;
    });
    lines.push(`| ${l.layer} | ${l.weights} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

// The pass framework: each pass rewrites the graph in place and says whether it changed
// anything; optimize() runs a pipeline to a fixed point on a copy of the graph. Passes only
// touch canonical (non-opaque) nodes.
import { cloneGraph, pruneUnused, topoSort, type Graph } from '../ir.js';
import { controlFlowRegions } from '../control-flow.js';
import { ModelFormatError } from '../errors.js';
import { inferShapes } from '../shape-inference.js';
import { assertOneOf } from '../../native/validate.js';
import { foldBatchNorm } from './batchnorm.js';
import { foldConstants } from './constant-folding.js';
import { fuseActivation, fuseBiasAdd } from './fuse.js';
import { removeIdentity } from './identity.js';
import { foldPad } from './pad.js';
import { foldScale } from './scale.js';
import { fusePrelu } from './prelu.js';
import { sinkTransposes } from './transpose.js';

export type Pass = (g: Graph) => boolean;

export const PASSES = {
  'remove-identity': removeIdentity,
  'fold-constants': foldConstants,
  'sink-transposes': sinkTransposes,
  'fold-batchnorm': foldBatchNorm,
  'fold-scale': foldScale,
  'fuse-prelu': fusePrelu,
  'fuse-bias': fuseBiasAdd,
  'fuse-activation': fuseActivation,
  'fold-pad': foldPad,
} satisfies Record<string, Pass>;
export type PassName = keyof typeof PASSES;
export const DEFAULT_PASSES: readonly PassName[] = [
  'remove-identity',
  'fold-constants',
  'sink-transposes',
  'fold-pad',
  'fold-batchnorm',
  'fold-scale',
  'fuse-prelu',
  'fuse-bias',
  'fuse-activation',
];

export interface OptimizeOptions {
  passes?: readonly PassName[];
  /** Upper bound on pipeline repetitions (default 8). */
  maxIterations?: number;
}

/** Runs passes to a fixed point on a copy of g; returns the optimized copy (g is unchanged). */
export function optimize(g: Graph, opts: OptimizeOptions = {}): Graph {
  const names: readonly PassName[] = opts.passes ?? DEFAULT_PASSES;
  if (!Array.isArray(names as unknown)) throw new TypeError('options.passes must be an array of pass names');
  for (const [i, n] of names.entries()) assertOneOf(n, Object.keys(PASSES) as PassName[], `options.passes[${i}]`);
  const out = cloneGraph(g);
  // Nodes of control-flow regions run raw in tfjs-converter: passes only transform canonical
  // nodes, so a region node that is not raw could be rewritten and then no longer run.
  const byName = new Map(out.nodes.map((n) => [n.name, n]));
  for (const r of controlFlowRegions(out)) {
    for (const name of r.nodes) {
      if (!byName.get(name)!.opaque)
        throw new ModelFormatError('a node inside a control-flow region must be opaque (raw TF form)', { node: name });
    }
  }
  inferShapes(out);
  let any = false;
  for (let it = 0; it < (opts.maxIterations ?? 8); it++) {
    let changed = false;
    for (const n of names) {
      if (PASSES[n](out)) {
        changed = true;
        topoSort(out);
        inferShapes(out);
      }
    }
    any ||= changed;
    if (!changed) break;
  }
  pruneUnused(out);
  topoSort(out);
  inferShapes(out);
  // The model's signature names its outputs: passes may fuse the nodes behind them, never rename them.
  if (out.outputs.some((o, i) => o !== g.outputs[i]))
    throw new Error(
      `internal error: optimize renamed graph outputs [${g.outputs.join(', ')}] to [${out.outputs.join(', ')}]`,
    );
  if (any) out.transformed = true;
  return out;
}

export {
  sinkTransposes,
  foldBatchNorm,
  foldConstants,
  foldScale,
  fusePrelu,
  fuseActivation,
  fuseBiasAdd,
  removeIdentity,
  foldPad,
};

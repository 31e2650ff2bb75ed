// Control-flow regions: the parts of a graph that only tfjs-converter's asynchronous executor
// can run, because their nodes do not each compute a value from their inputs — TF1 frames and
// conditionals (Switch/Merge forward "dead" tensors, Enter/Exit/NextIteration run a body many
// times), TF2 functional If/While (bodies in the function library), tensor arrays and lists
// (handles into state kept by the executor), hash tables, and the ops whose output size is
// data-dependent and which tfjs only runs asynchronously (Where, ListDiff).
//
// A region is a set of nodes closed under "lies between": every node on a path from the region
// back into it belongs to it, so a region can run as one unit after all its inputs are known
// and before any of its readers. Everything outside the regions runs node by node (and may run
// natively); nodes inside are kept in raw form (opaque, with their TF attrs) and never
// transformed.
import { isBackEdge, producers, type Graph, type Node } from './ir.js';

/** Ops that make a node part of a control-flow region. */
export const CONTROL_FLOW_OPS: ReadonlySet<string> = new Set([
  // TF1 control flow.
  'Switch',
  'Merge',
  'Enter',
  'Exit',
  'NextIteration',
  'LoopCond',
  // TF2 functional control flow.
  'If',
  'StatelessIf',
  'While',
  'StatelessWhile',
  // Tensor arrays (TF1) and tensor lists (TF2): their handles refer to executor state.
  'TensorArrayV3',
  'TensorArrayWriteV3',
  'TensorArrayReadV3',
  'TensorArrayGatherV3',
  'TensorArrayScatterV3',
  'TensorArrayConcatV3',
  'TensorArraySplitV3',
  'TensorArraySizeV3',
  'TensorArrayCloseV3',
  'TensorListSetItem',
  'TensorListGetItem',
  'TensorListScatter',
  'TensorListScatterV2',
  'TensorListReserve',
  'EmptyTensorList',
  'TensorListGather',
  'TensorListStack',
  'TensorListFromTensor',
  'TensorListConcat',
  'TensorListConcatV2',
  'TensorListPushBack',
  'TensorListPopBack',
  'TensorListSplit',
  'TensorListLength',
  'TensorListResize',
  // Hash tables (resources of the executor).
  'HashTable',
  'HashTableV2',
  'LookupTableImport',
  'LookupTableImportV2',
  'LookupTableFind',
  'LookupTableFindV2',
  'LookupTableSize',
  'LookupTableSizeV2',
  // Data-dependent output sizes that tfjs only computes asynchronously.
  'Where',
  'ListDiff',
]);

export function isControlFlowOp(op: string): boolean {
  return CONTROL_FLOW_OPS.has(op);
}

export interface ControlFlowRegion {
  /** Index in the list returned by controlFlowRegions. */
  id: number;
  /** Node names, in g.nodes order. */
  nodes: string[];
  /** Tensors the region reads from outside it (graph inputs, constants, outputs of outside nodes), in first-read order. */
  inputs: string[];
  /** Tensors of region nodes read outside it (by a node or as a graph output), in g.nodes order. */
  outputs: string[];
  /** Outside nodes a region node names as a control input (they must run first). */
  controlInputs: string[];
}

/** True when some node of g is a control-flow op (then g has at least one region). */
export function hasControlFlow(g: Graph): boolean {
  return g.nodes.some((n) => CONTROL_FLOW_OPS.has(n.op));
}

interface Edges {
  /** Producers of each node's data and control inputs, back edges excluded. */
  deps: Map<Node, Node[]>;
  readers: Map<Node, Node[]>;
  /** Merge → the NextIteration nodes feeding it (the loop's back edges). */
  backEdges: Map<Node, Node[]>;
}

function edges(nodes: readonly Node[]): Edges {
  const prod = new Map<string, Node>();
  for (const n of nodes) for (const o of n.outputs) prod.set(o, n);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const deps = new Map<Node, Node[]>();
  const readers = new Map<Node, Node[]>(nodes.map((n) => [n, []]));
  const backEdges = new Map<Node, Node[]>();
  for (const n of nodes) {
    const d = new Set<Node>();
    for (const t of n.inputs) {
      const p = prod.get(t);
      if (p && isBackEdge(n, p)) backEdges.set(n, [...(backEdges.get(n) ?? []), p]);
      else if (p) d.add(p);
    }
    for (const c of n.controlInputs ?? []) {
      const p = byName.get(c);
      if (p) d.add(p);
    }
    deps.set(n, [...d]);
    for (const p of d) readers.get(p)!.push(n);
  }
  return { deps, readers, backEdges };
}

/** Kahn order over the nodes (back edges excluded), stable with respect to the given order. */
function topological(nodes: readonly Node[], e: Edges): Node[] {
  const pending = new Map(nodes.map((n) => [n, e.deps.get(n)!.length]));
  const order: Node[] = [];
  const ready = nodes.filter((n) => pending.get(n) === 0);
  for (let i = 0; i < ready.length; i++) {
    const n = ready[i]!;
    order.push(n);
    for (const r of e.readers.get(n)!) {
      const left = pending.get(r)! - 1;
      pending.set(r, left);
      if (left === 0) ready.push(r);
    }
  }
  return order;
}

/**
 * Nesting depth of each node in TF1 frames and conditionals, propagated along the edges: Enter
 * and a conditional's Switch open a level, Exit and a conditional's Merge close one. The Switch
 * of a loop (predicate from LoopCond) and its Merge (fed back by NextIteration) do neither.
 */
function frameDepths(order: readonly Node[], e: Edges, prod: Map<string, [Node, number]>): Map<Node, number> {
  const depth = new Map<Node, number>();
  for (const n of order) {
    let d = 0;
    for (const p of e.deps.get(n)!) d = Math.max(d, depth.get(p) ?? 0);
    if (n.op === 'Enter') d += 1;
    else if (n.op === 'Exit') d -= 1;
    else if (n.op === 'Switch') {
      const pred = n.inputs[1] !== undefined ? prod.get(n.inputs[1]) : undefined;
      if (pred?.[0].op !== 'LoopCond') d += 1;
    } else if (n.op === 'Merge' && !isLoopMerge(n, e)) {
      d -= 1;
    }
    depth.set(n, Math.max(0, d));
  }
  return depth;
}

/** Nodes reachable from `from` following `next`, including `from`. */
function reach(from: Iterable<Node>, next: Map<Node, Node[]>): Set<Node> {
  const seen = new Set<Node>(from);
  const stack = [...seen];
  while (stack.length)
    for (const m of next.get(stack.pop()!) ?? [])
      if (!seen.has(m)) {
        seen.add(m);
        stack.push(m);
      }
  return seen;
}

const cache = new WeakMap<Graph, { fingerprint: string; regions: ControlFlowRegion[] }>();

/** The graph's structure as a string: regions are recomputed only when it changed. */
function fingerprint(g: Graph): string {
  return (
    g.nodes
      .map(
        (n) =>
          `${n.name}\u0001${n.op}\u0001${n.inputs.join('\u0002')}\u0001${(n.controlInputs ?? []).join('\u0002')}\u0001${n.outputs.length}`,
      )
      .join('\u0003') + `\u0004${g.outputs.join('\u0002')}`
  );
}

/** The control-flow regions of g (empty without control-flow ops). Treat the result as read-only. */
export function controlFlowRegions(g: Graph): ControlFlowRegion[] {
  if (!hasControlFlow(g)) return [];
  const fp = fingerprint(g);
  const hit = cache.get(g);
  if (hit && hit.fingerprint === fp) return hit.regions;
  const regions = computeRegions(g);
  cache.set(g, { fingerprint: fp, regions });
  return regions;
}

function computeRegions(g: Graph): ControlFlowRegion[] {
  const e = edges(g.nodes);
  const prod = producers(g);
  const order = topological(g.nodes, e);
  const depth = frameDepths(order, e, prod);
  const seeds = g.nodes.filter((n) => CONTROL_FLOW_OPS.has(n.op) || (depth.get(n) ?? 0) > 0);
  // Components of directly connected seeds, then each closed under "lies between" until stable
  // (closing one can swallow another).
  let groups: Set<Node>[] = components(seeds, e, depth);
  for (;;) {
    const closed = groups.map((grp) => {
      const down = reach(grp, e.readers);
      const up = reach(grp, e.deps);
      return new Set([...down].filter((n) => up.has(n)));
    });
    const merged = mergeOverlapping(closed);
    const stable = merged.length === groups.length && merged.every((m, i) => m.size === groups[i]!.size);
    groups = merged;
    if (stable) break;
  }
  const index = new Map(g.nodes.map((n, i) => [n, i]));
  groups.sort((a, b) => Math.min(...[...a].map((n) => index.get(n)!)) - Math.min(...[...b].map((n) => index.get(n)!)));
  return groups.map((grp, id) => describe(g, grp, id));
}

/** Ops whose outputs are handles into executor state (a reader must run in the same tfjs execution). */
const RESOURCE_OP = /^(TensorArray|TensorList|EmptyTensorList|HashTable|LookupTable)/;

/**
 * Groups the seeds into regions to close: two seeds belong together when a value flows between
 * them inside a frame or a branch (the producer's output is nested), or when either end handles
 * a resource. A value leaving a conditional through its Merge, or a loop through its Exit, does
 * not tie the next region to it: the nodes in between (often the whole network, as in
 * cond → network → cond) stay outside.
 */
function components(seeds: Node[], e: Edges, depth: Map<Node, number>): Set<Node>[] {
  const seedSet = new Set(seeds);
  const adj = new Map<Node, Node[]>(seeds.map((n) => [n, []]));
  const nestedOutput = (p: Node): boolean =>
    (depth.get(p) ?? 0) > 0 && p.op !== 'Exit' && !(p.op === 'Merge' && !isLoopMerge(p, e));
  for (const n of seeds) {
    for (const p of e.deps.get(n)!) {
      if (!seedSet.has(p)) continue;
      if (nestedOutput(p) || RESOURCE_OP.test(p.op) || RESOURCE_OP.test(n.op)) {
        adj.get(n)!.push(p);
        adj.get(p)!.push(n);
      }
    }
  }
  // A loop's back edge (NextIteration → Merge) is left out of e.deps: tie its ends here.
  for (const n of seeds) {
    if (n.op !== 'Merge') continue;
    for (const p of e.backEdges.get(n) ?? [])
      if (seedSet.has(p)) {
        adj.get(n)!.push(p);
        adj.get(p)!.push(n);
      }
  }
  const out: Set<Node>[] = [];
  const seen = new Set<Node>();
  for (const s of seeds) {
    if (seen.has(s)) continue;
    const c = reach([s], adj);
    for (const n of c) seen.add(n);
    out.push(c);
  }
  return out;
}

function isLoopMerge(n: Node, e: Edges): boolean {
  return (e.backEdges.get(n)?.length ?? 0) > 0;
}

function mergeOverlapping(sets: Set<Node>[]): Set<Node>[] {
  const out: Set<Node>[] = [];
  for (const s of sets) {
    const hit = out.filter((o) => [...s].some((n) => o.has(n)));
    const union = new Set<Node>(s);
    for (const h of hit) for (const n of h) union.add(n);
    for (let i = out.length - 1; i >= 0; i--) if (hit.includes(out[i]!)) out.splice(i, 1);
    out.push(union);
  }
  return out.length === sets.length ? out : mergeOverlapping(out);
}

function describe(g: Graph, members: Set<Node>, id: number): ControlFlowRegion {
  const nodes = g.nodes.filter((n) => members.has(n));
  const produced = new Set(nodes.flatMap((n) => n.outputs));
  const names = new Set(nodes.map((n) => n.name));
  const inputs: string[] = [];
  const controlInputs: string[] = [];
  for (const n of nodes) {
    for (const t of n.inputs) if (!produced.has(t) && !inputs.includes(t)) inputs.push(t);
    for (const c of n.controlInputs ?? []) if (!names.has(c) && !controlInputs.includes(c)) controlInputs.push(c);
  }
  const readOutside = new Set<string>(g.outputs);
  for (const n of g.nodes) if (!members.has(n)) for (const t of n.inputs) readOutside.add(t);
  const outputs = nodes.flatMap((n) => n.outputs).filter((t) => readOutside.has(t));
  return { id, nodes: nodes.map((n) => n.name), inputs, outputs, controlInputs };
}

/** node name → id of its region, for the nodes inside regions. */
export function regionIndex(regions: readonly ControlFlowRegion[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of regions) for (const n of r.nodes) m.set(n, r.id);
  return m;
}

/** One step of an execution: an outside node, or a whole region. */
export type ExecutionUnit = { kind: 'node'; node: Node } | { kind: 'region'; region: ControlFlowRegion };

/**
 * The nodes of g as execution units in a dependency order where each region is one unit
 * (stable with respect to g.nodes). Regions are closed under "lies between", so this order exists.
 */
export function executionUnits(
  g: Graph,
  regions: readonly ControlFlowRegion[] = controlFlowRegions(g),
): ExecutionUnit[] {
  const where = regionIndex(regions);
  const e = edges(g.nodes);
  const units: ExecutionUnit[] = [];
  const unitOf = new Map<Node, number>();
  const regionUnit = new Map<number, number>();
  for (const n of g.nodes) {
    const r = where.get(n.name);
    if (r === undefined) {
      unitOf.set(n, units.length);
      units.push({ kind: 'node', node: n });
    } else {
      if (!regionUnit.has(r)) {
        regionUnit.set(r, units.length);
        units.push({ kind: 'region', region: regions[r]! });
      }
      unitOf.set(n, regionUnit.get(r)!);
    }
  }
  const deps = units.map(() => new Set<number>());
  for (const n of g.nodes)
    for (const p of e.deps.get(n)!) {
      const a = unitOf.get(n)!;
      const b = unitOf.get(p)!;
      if (a !== b) deps[a]!.add(b);
    }
  const readers = units.map(() => [] as number[]);
  deps.forEach((d, u) => d.forEach((p) => readers[p]!.push(u)));
  const pending = deps.map((d) => d.size);
  // Smallest ready index first keeps g.nodes order wherever the dependencies allow.
  const ready = new MinHeap();
  pending.forEach((p, i) => p === 0 && ready.push(i));
  const out: ExecutionUnit[] = [];
  while (ready.size) {
    const u = ready.pop();
    out.push(units[u]!);
    for (const r of readers[u]!) if (--pending[r]! === 0) ready.push(r);
  }
  if (out.length !== units.length)
    throw new Error('internal error: control-flow regions are not closed (a cycle between execution units)');
  return out;
}

/** A binary min-heap of integers. */
class MinHeap {
  private a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(v: number): void {
    const a = this.a;
    a.push(v);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (a[p]! <= a[i]!) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]! < a[m]!) m = l;
        if (r < a.length && a[r]! < a[m]!) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

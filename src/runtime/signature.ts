// The model's names for its inputs and outputs: the signature (per input / output its `key`,
// as tfjs names it, and its tensor `name`) when the loader recorded one on the graph, else the
// graph's own input and output names. Read defensively: a graph without a signature, or with
// one of another form, falls back to the graph names.
import type { Graph } from '../model/ir.js';

export interface SignatureEntry {
  /** The signature key (what tfjs' executeAsync and a SavedModel signature call it). */
  key: string;
  /** The graph tensor it names. */
  tensor: string;
}

export interface Names {
  inputs: SignatureEntry[];
  outputs: SignatureEntry[];
}

const bare = (t: string): string => t.replace(/:0$/, '');

function entries(raw: unknown, graphNames: readonly string[]): SignatureEntry[] | undefined {
  const list = Array.isArray(raw)
    ? raw
    : raw && typeof raw === 'object'
      ? Object.entries(raw as Record<string, unknown>).map(([key, v]) => ({ key, ...(v as object) }))
      : undefined;
  if (!list || list.length !== graphNames.length) return undefined;
  const out: SignatureEntry[] = [];
  const left = new Set(graphNames);
  for (const [i, e] of list.entries()) {
    if (!e || typeof e !== 'object') return undefined;
    const { key, name } = e as { key?: unknown; name?: unknown };
    if (typeof key !== 'string' || (name !== undefined && typeof name !== 'string')) return undefined;
    // The tensor by its name when the graph still has it; else by position (a pass renamed it).
    const byName =
      typeof name === 'string' && left.has(bare(name))
        ? bare(name)
        : typeof name === 'string' && left.has(name)
          ? name
          : undefined;
    const tensor = byName ?? graphNames[i]!;
    if (!left.has(tensor)) return undefined;
    left.delete(tensor);
    out.push({ key, tensor });
  }
  return out;
}

/** Input and output names in the signature's order (graph order without a signature). */
export function modelNames(g: Graph): Names {
  const sig = (g as { signature?: { inputs?: unknown; outputs?: unknown } }).signature;
  const inNames = g.inputs.map((i) => i.name);
  const fromGraph = (names: readonly string[]): SignatureEntry[] => names.map((n) => ({ key: n, tensor: n }));
  return {
    inputs: (sig && entries(sig.inputs, inNames)) ?? fromGraph(inNames),
    outputs: (sig && entries(sig.outputs, g.outputs)) ?? fromGraph(g.outputs),
  };
}

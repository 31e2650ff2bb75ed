// What the harness needs to know about a model.json before loading it with anything: its
// inputs (name, shape with free dimensions fixed, dtype, kind of values) and the graph
// constructs worth naming in the results (TF1/TF2 control flow, non-max suppression, …).
import type { ZooInput } from './manifest.js';
import type { InputOverride } from './sources.js';

type Json = Record<string, unknown>;

interface RawInput {
  name: string;
  shape: number[] | null;
  dtype: string;
  note: string;
}

const TF_DTYPES: Record<string, string> = {
  DT_FLOAT: 'float32',
  DT_INT32: 'int32',
  DT_UINT8: 'int32',
  DT_INT64: 'int32',
  DT_BOOL: 'bool',
};

function dims(shape: unknown): number[] | null {
  const s = shape as { dim?: { size?: string | number }[]; unknownRank?: boolean } | undefined;
  if (!s || s.unknownRank) return null;
  return (s.dim ?? []).map((d) => Number(d.size ?? -1));
}

function graphInputs(json: Json): RawInput[] {
  const topo = json.modelTopology as { node?: { name: string; op: string; attr?: Json }[] };
  const sig = (json.signature ?? (json.userDefinedMetadata as Json | undefined)?.signature) as
    { inputs?: Record<string, { name?: string; dtype?: string; tensorShape?: unknown }> } | undefined;
  const sigByName = new Map<string, { dtype?: string; tensorShape?: unknown }>();
  for (const [k, v] of Object.entries(sig?.inputs ?? {})) {
    for (const n of [k, v.name ?? k]) sigByName.set(n.replace(/:0$/, ''), v);
  }
  return (topo.node ?? [])
    .filter((n) => n.op === 'Placeholder')
    .map((n) => {
      const s = sigByName.get(n.name);
      const attr = n.attr ?? {};
      const dtype = TF_DTYPES[String(s?.dtype ?? (attr.dtype as { type?: string } | undefined)?.type)] ?? 'float32';
      const fromSig = s?.tensorShape ? dims(s.tensorShape) : undefined;
      const shape = fromSig ?? dims((attr.shape as { shape?: unknown } | undefined)?.shape);
      return { name: n.name, shape, dtype, note: fromSig ? 'signature' : 'placeholder' };
    });
}

function layersInputs(json: Json): RawInput[] {
  const topo = json.modelTopology as Json;
  const cfg = ((topo.model_config ?? topo) as Json).config as Json | Json[];
  const layers = (Array.isArray(cfg) ? cfg : (cfg.layers as Json[])) ?? [];
  const inputLayers = layers.filter((l) => l.class_name === 'InputLayer');
  const pick = inputLayers.length ? inputLayers : layers.slice(0, 1);
  return pick.map((l) => {
    const c = l.config as Json;
    const shape = (c.batch_input_shape as (number | null)[] | undefined)?.map((d) => (d === null ? -1 : d)) ?? null;
    return { name: String(c.name ?? l.name), shape, dtype: String(c.dtype ?? 'float32'), note: 'layers input' };
  });
}

/** 'layers-model' when the json says so or its topology is a Keras config (older files omit `format`). */
export function modelFormat(json: Json): 'graph-model' | 'layers-model' {
  const topo = json.modelTopology as Json | undefined;
  return json.format === 'layers-model' || (topo && ('model_config' in topo || 'class_name' in topo))
    ? 'layers-model'
    : 'graph-model';
}

/** Inputs as the harness feeds them: free batch → 1; other free dimensions need an override. */
export function describeInputs(
  json: Json,
  range: [number, number],
  overrides: Record<string, InputOverride> = {},
): ZooInput[] {
  const raw = modelFormat(json) === 'layers-model' ? layersInputs(json) : graphInputs(json);
  return raw.map((r) => {
    const o = overrides[r.name] ?? {};
    const shape = o.shape ?? r.shape?.map((d, i) => (d < 0 && i === 0 ? 1 : d));
    if (!shape || shape.some((d) => d < 0))
      throw new Error(
        `input '${r.name}' has free dimensions [${r.shape?.join(', ') ?? 'unknown rank'}]: give its shape in sources.ts`,
      );
    const dtype = o.dtype ?? (r.dtype === 'int32' ? 'int32' : 'float32');
    const kind = o.kind ?? 'image';
    const layout = kind === 'image' ? (o.layout ?? 'NHWC') : undefined;
    const note = [r.note, o.note].filter(Boolean).join('; ');
    return {
      name: r.name,
      shape,
      dtype,
      kind,
      range: o.range ?? (dtype === 'int32' ? [0, 255] : range),
      ...(layout ? { layout } : {}),
      note,
    };
  });
}

const CONSTRUCTS: [string, (ops: Set<string>) => boolean][] = [
  ['TF1 while loop', (o) => o.has('Enter') || o.has('NextIteration') || o.has('LoopCond')],
  ['TF1 cond', (o) => (o.has('Switch') || o.has('Merge')) && !o.has('Enter')],
  ['TF2 functional control flow', (o) => ['While', 'StatelessWhile', 'If', 'StatelessIf'].some((x) => o.has(x))],
  ['non-max suppression', (o) => [...o].some((x) => x.startsWith('NonMaxSuppression'))],
  ['TensorArray/TensorList', (o) => [...o].some((x) => x.startsWith('TensorArray') || x.startsWith('TensorList'))],
  ['BatchMatMul', (o) => o.has('BatchMatMul') || o.has('BatchMatMulV2')],
];

/** Named constructs of a graph model (layers models: their layer classes of note). */
export function describeConstructs(json: Json): string[] {
  if (modelFormat(json) === 'layers-model') {
    const text = JSON.stringify(json.modelTopology);
    return [
      'layers model',
      ...['LSTM', 'GRU', 'Attention', 'MultiHeadAttention', 'LayerNormalization'].filter((c) =>
        text.includes(`"class_name":"${c}"`),
      ),
    ];
  }
  const topo = json.modelTopology as {
    node?: { op: string }[];
    library?: { function?: { nodeDef?: { op: string }[] }[] };
  };
  const ops = new Set((topo.node ?? []).map((n) => n.op));
  for (const f of topo.library?.function ?? []) for (const n of f.nodeDef ?? []) ops.add(n.op);
  return CONSTRUCTS.filter(([, has]) => has(ops)).map(([name]) => name);
}

// The tfjs-quant model format (docs/format.md): the IR itself (nodes with canonical ops and
// attributes, opaque nodes with their raw TF attrs), constants in 'raw', 'affine' (per-channel
// integer weights with scales and zero points) or extension encodings ('deep-compression'…),
// activation ranges, and provenance. Versioned and self-describing; deterministic bytes.
import { createHash } from 'node:crypto';
import { float16ToFloat32, float32ToFloat16 } from '../kernels/float16.js';
import { ModelFormatError } from './errors.js';
import { getEncoding } from './encodings.js';
import {
  createGraph,
  hasNonFiniteValues,
  signatureOf,
  topoSort,
  type AffineQuantization,
  type AttrValue,
  type Constant,
  type Graph,
  type GraphSignature,
  type Node,
  type SignatureEntry,
} from './ir.js';
import { inferShapes } from './shape-inference.js';
import { toolVersion, TOOL_NAME } from './version.js';
import {
  decodeInt4GroupTables,
  dequantizeWeightInt4,
  encodeInt4GroupTables,
  unpackInt4Nibbles,
} from './int4-storage.js';
import { checkShape, DTYPES, sizeOf, type DType } from '../io/weights.js';
import { writeFilesAtomic, type OutputFile } from '../io/atomic.js';
import type { WeightGroupBytes } from '../io/files.js';

export const FORMAT_NAME = 'tfjs-quant';
export const FORMAT_VERSION = 1;
/** Extensions this reader understands (a file listing another in requiredExtensions is rejected). */
export const KNOWN_EXTENSIONS: readonly string[] = [];
const ALIGN = 16;
const MAX_SHARD = 64 * 1024 * 1024;

export interface ActivationRange {
  min: number;
  max: number;
  scale?: number;
  zeroPoint?: number;
  dtype?: 'int8' | 'uint8';
}

export interface SaveNativeOptions {
  /** What produced this model ('float', 'dynamic-int8', 'full-int8', 'deep-compression', …). */
  mode?: string;
  /** The options of that step, recorded verbatim (must be JSON). */
  options?: Record<string, unknown>;
  /** Activation ranges by tensor name (calibration). Also read from g.metadata.activations. */
  activations?: Record<string, ActivationRange>;
  /** Shard size (default 64 MiB). */
  shardBytes?: number;
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function rawBytes(c: Constant): Uint8Array {
  if (c.dtype === 'string') {
    const arr = c.data as Uint8Array[];
    const out = new Uint8Array(arr.reduce((a, s) => a + 4 + s.byteLength, 0));
    const v = new DataView(out.buffer);
    let off = 0;
    for (const s of arr) {
      v.setUint32(off, s.byteLength, true);
      out.set(s, off + 4);
      off += 4 + s.byteLength;
    }
    return out;
  }
  const d = c.data as Float32Array | Int32Array | Uint8Array;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function affineBytes(q: AffineQuantization, name: string): Uint8Array {
  const v = q.values!;
  if (q.dtype === 'int4') {
    const out = new Uint8Array(Math.ceil(v.length / 2));
    for (let i = 0; i < v.length; i++) {
      const nib = v[i]! & 0x0f;
      out[i >> 1]! |= i & 1 ? nib << 4 : nib;
    }
    return out;
  }
  if (q.dtype === 'int8' && !(v instanceof Int8Array))
    throw new ModelFormatError('affine int8 values must be an Int8Array', { weight: name });
  if (q.dtype === 'uint8' && !(v instanceof Uint8Array))
    throw new ModelFormatError('affine uint8 values must be a Uint8Array', { weight: name });
  if (q.dtype === 'int32' && !(v instanceof Int32Array))
    throw new ModelFormatError('affine int32 values must be an Int32Array', { weight: name });
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function numbers(a: ArrayLike<number>): number[] {
  return Array.from(a);
}

function jsonAttrs(attrs: Record<string, AttrValue>): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const k of Object.keys(attrs).sort()) if (attrs[k] !== undefined) out[k] = attrs[k]!;
  return out;
}

/** The files of the tfjs-quant format for g (no files written). */
export function nativeFiles(g: Graph, o: SaveNativeOptions = {}): OutputFile[] {
  if (o === null || typeof o !== 'object') throw new TypeError('options must be an object');
  if (o.mode !== undefined && typeof o.mode !== 'string') throw new TypeError('options.mode must be a string');
  const shardBytes = o.shardBytes ?? MAX_SHARD;
  if (!Number.isInteger(shardBytes) || shardBytes < ALIGN)
    throw new RangeError(`options.shardBytes must be an integer >= ${ALIGN}`);
  const entries: Record<string, unknown>[] = [];
  const shards: Uint8Array[][] = [[]];
  const shardLen = [0];
  const put = (bytes: Uint8Array): { shard: number; offset: number } => {
    let s = shards.length - 1;
    if (shardLen[s]! > 0 && shardLen[s]! + bytes.byteLength > shardBytes) {
      shards.push([]);
      shardLen.push(0);
      s++;
    }
    const offset = shardLen[s]!;
    shards[s]!.push(bytes);
    const padded = align(bytes.byteLength);
    if (padded > bytes.byteLength) shards[s]!.push(new Uint8Array(padded - bytes.byteLength));
    shardLen[s] = offset + padded;
    return { shard: s, offset };
  };
  for (const name of [...g.constants.keys()].sort()) {
    const c = g.constants.get(name)!;
    const q = c.quantization;
    let encoding = 'raw';
    let bytes: Uint8Array;
    let params: Record<string, unknown> = {};
    if (q?.encoded) {
      encoding = q.encoded.encoding;
      bytes = q.encoded.bytes;
      params = q.encoded.meta ?? {};
    } else if (q?.affine?.values) {
      const a = q.affine;
      encoding = 'affine';
      bytes = affineBytes(a, name);
      // int4 with per-group scales: the [groups][C] tables follow the nibbles (uint8 codes + float32
      // super-scales or float16 scales, int4 zero points).
      const groups =
        a.dtype === 'int4' && a.groupSize ? encodeInt4GroupTables(a, bytes.byteLength, c.shape) : undefined;
      if (groups) bytes = concatBytes(bytes, groups.tail);
      // Per-channel 8-bit: the float32 scales follow the values (4-byte aligned), zero points only when not all 0.
      const table =
        !groups && (a.dtype === 'int8' || a.dtype === 'uint8') && a.scales.length > 1
          ? scaleTable(a, bytes.byteLength)
          : undefined;
      if (table) bytes = concatBytes(bytes, table.tail);
      params = {
        storage: a.dtype,
        axis: a.axis,
        ...(a.axisCount && a.axisCount !== 1 ? { axisCount: a.axisCount } : {}),
        ...(groups
          ? groups.params
          : table
            ? table.params
            : { scales: numbers(a.scales), zeroPoints: numbers(a.zeroPoints) }),
        ...(a.narrowRange ? { narrowRange: true } : {}),
        ...(!groups && a.groupSize ? { groupSize: a.groupSize } : {}),
      };
    } else if (q?.tfjs?.dtype === 'float16' && c.dtype === 'float32') {
      // float16 storage (PTQ mode float16): IEEE binary16, exact for values that came from it.
      encoding = 'float16';
      const h = float32ToFloat16(c.data as Float32Array);
      bytes = new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
    } else {
      bytes = rawBytes(c);
    }
    const loc = put(bytes);
    const e: Record<string, unknown> = {
      name,
      dtype: c.dtype,
      shape: c.shape,
      encoding,
      shard: loc.shard,
      offset: loc.offset,
      byteLength: bytes.byteLength,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
    if (Object.keys(params).length) e.params = params;
    if (q?.tfjs) e.tfjsStorage = q.tfjs;
    // Non-finite values are legal only where marked: unmarked ones mean a damaged file.
    if (hasNonFiniteValues(c.data)) e.nonFinite = true;
    entries.push(e);
  }
  const shardNames = shards.map((_, i) => `weights-${i + 1}of${shards.length}.bin`);
  const nodes = g.nodes.map((n: Node) => ({
    name: n.name,
    op: n.op,
    inputs: n.inputs,
    outputs: n.outputs,
    attrs: jsonAttrs(n.attrs),
    ...(n.opaque ? { opaque: true, rawAttrs: n.rawAttrs ?? {} } : {}),
    ...(n.controlInputs?.length ? { controlInputs: n.controlInputs } : {}),
  }));
  const signature = signatureOf(g);
  if (
    signature.inputs.some((e, i) => e.name !== g.inputs[i]?.name) ||
    signature.outputs.some((e, i) => e.name !== g.outputs[i]) ||
    signature.inputs.length !== g.inputs.length ||
    signature.outputs.length !== g.outputs.length
  ) {
    throw new Error(
      `internal error: g.signature names [${signature.outputs.map((e) => e.name).join(', ')}] but the graph's outputs are [${g.outputs.join(', ')}] (a step renamed graph inputs or outputs)`,
    );
  }
  const activations = o.activations ?? (g.metadata.activations as Record<string, ActivationRange> | undefined) ?? {};
  const doc = {
    format: FORMAT_NAME,
    formatVersion: FORMAT_VERSION,
    requiredExtensions: [] as string[],
    extensions: {},
    provenance: {
      tool: TOOL_NAME,
      toolVersion: toolVersion(),
      mode: o.mode ?? 'float',
      options: o.options ?? {},
      source: g.source ? { format: g.source.format, sha256: g.source.sha256 } : null,
      transformed: !!g.transformed,
    },
    graph: {
      name: g.name,
      inputs: g.inputs,
      outputs: g.outputs,
      signature,
      nodes,
      ...(g.library ? { library: g.library } : {}),
      activations: Object.fromEntries(
        Object.keys(activations)
          .sort()
          .map((k) => [k, activations[k]]),
      ),
      // docs/quantization.md §12.1: the quantized-graph annotation (mode, floatNodes, input/output types…).
      ...(g.metadata.quantization ? { quantization: g.metadata.quantization } : {}),
    },
    weights: { shards: shardNames, entries },
  };
  const files: OutputFile[] = [{ name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(doc)) }];
  shards.forEach((parts, i) => {
    const total = parts.reduce((a, p) => a + p.byteLength, 0);
    const buf = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      buf.set(p, off);
      off += p.byteLength;
    }
    files.push({ name: shardNames[i]!, bytes: buf });
  });
  return files;
}

/** Saves g in the tfjs-quant format into dir (atomic; never over the source files). */
export async function saveNative(g: Graph, dir: string, o: SaveNativeOptions = {}): Promise<string[]> {
  if (typeof dir !== 'string' || dir === '') throw new TypeError('dir must be a non-empty string');
  const files = nativeFiles(g, o);
  try {
    return await writeFilesAtomic(dir, files, { protect: g.source?.files ?? [] });
  } catch (e) {
    throw new ModelFormatError(`cannot write the model: ${(e as Error).message}`, { file: dir });
  }
}

// ---- reading

function fail(reason: string, file: string, extra: { node?: string; weight?: string } = {}): never {
  throw new ModelFormatError(reason, { file, ...extra });
}

/** Shard file names of a tfjs-quant model.json (validated, for the file reader). */
export function nativeShardNames(json: Record<string, unknown>, file: string): string[] {
  const w = json.weights as { shards?: unknown } | undefined;
  if (
    !w ||
    typeof w !== 'object' ||
    !Array.isArray(w.shards) ||
    w.shards.some((s) => typeof s !== 'string' || s === '')
  ) {
    fail('weights.shards must be an array of file names', file);
  }
  return w.shards as string[];
}

/** Builds the IR from a tfjs-quant model.json and its shards (one group per shard, in order). */
export function loadNativeIR(
  json: Record<string, unknown>,
  shards: WeightGroupBytes[],
  file: string,
  allowNonFinite = false,
): Graph {
  if (json.formatVersion !== FORMAT_VERSION)
    fail(
      `formatVersion ${JSON.stringify(json.formatVersion)} is not supported (this reader knows ${FORMAT_VERSION})`,
      file,
    );
  const req = json.requiredExtensions;
  if (req !== undefined && (!Array.isArray(req) || req.some((r) => typeof r !== 'string')))
    fail('requiredExtensions must be an array of names', file);
  for (const r of (req as string[] | undefined) ?? [])
    if (!KNOWN_EXTENSIONS.includes(r)) fail(`requires the extension '${r}', which this reader does not know`, file);
  const gj = json.graph as Record<string, unknown> | undefined;
  if (!gj || typeof gj !== 'object') fail('graph must be an object', file);
  const g = createGraph(typeof gj.name === 'string' ? gj.name : 'model');
  if (!Array.isArray(gj.inputs) || !Array.isArray(gj.outputs) || !Array.isArray(gj.nodes))
    fail('graph.inputs, graph.outputs and graph.nodes must be arrays', file);
  for (const i of gj.inputs as Record<string, unknown>[]) {
    if (!i || typeof i.name !== 'string' || !DTYPES.includes(i.dtype as DType))
      fail('graph input needs a name and a dtype', file);
    if (i.shape !== null && !Array.isArray(i.shape))
      fail(`graph input '${i.name}' needs a shape (an array, or null for unknown rank)`, file);
    const shape =
      i.shape === null
        ? null
        : checkShape(
            (i.shape as number[]).map((d) => (d === -1 ? 0 : d)),
            'input shape',
            file,
          ) && (i.shape as number[]);
    g.inputs.push({ name: i.name, dtype: i.dtype as DType, shape });
  }
  g.outputs = (gj.outputs as unknown[]).map((o) =>
    typeof o === 'string' ? o : fail('graph outputs must be tensor names', file),
  );
  const names = new Set<string>();
  for (const raw of gj.nodes as Record<string, unknown>[]) {
    if (!raw || typeof raw.name !== 'string' || typeof raw.op !== 'string')
      fail('every node needs a name and an op', file);
    const nm = raw.name;
    if (names.has(nm)) fail('duplicate node name', file, { node: nm });
    names.add(nm);
    const strs = (v: unknown, what: string): string[] => {
      if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
        fail(`${what} must be an array of tensor names`, file, { node: nm });
      return v as string[];
    };
    const n: Node = {
      name: nm,
      op: raw.op,
      inputs: strs(raw.inputs, 'inputs'),
      outputs: strs(raw.outputs, 'outputs'),
      attrs: (raw.attrs ?? {}) as Node['attrs'],
    };
    if (typeof n.attrs !== 'object' || Array.isArray(n.attrs)) fail('attrs must be an object', file, { node: nm });
    if (raw.opaque) {
      n.opaque = true;
      n.rawAttrs = (raw.rawAttrs ?? {}) as Record<string, unknown>;
    }
    if (raw.controlInputs !== undefined) n.controlInputs = strs(raw.controlInputs, 'controlInputs');
    g.nodes.push(n);
  }
  const wj = json.weights as { entries?: unknown } | undefined;
  if (!wj || !Array.isArray(wj.entries)) fail('weights.entries must be an array', file);
  for (const raw of wj.entries as Record<string, unknown>[]) {
    if (!raw || typeof raw.name !== 'string') fail('weight entry has no name', file);
    const wname = raw.name;
    const dtype = raw.dtype as DType;
    if (!DTYPES.includes(dtype)) fail(`unknown dtype ${JSON.stringify(raw.dtype)}`, file, { weight: wname });
    const shape = checkShape(raw.shape, 'shape', file, wname);
    const si = raw.shard;
    const off = raw.offset;
    const len = raw.byteLength;
    if (typeof si !== 'number' || !Number.isInteger(si) || si < 0 || si >= shards.length)
      fail(`shard index ${JSON.stringify(si)} is out of range`, file, { weight: wname });
    const sh = shards[si]!;
    if (
      typeof off !== 'number' ||
      typeof len !== 'number' ||
      !Number.isInteger(off) ||
      !Number.isInteger(len) ||
      off < 0 ||
      len < 0 ||
      off + len > sh.bytes.byteLength
    ) {
      fail(`bytes [${String(off)}, +${String(len)}) lie outside the shard (${sh.bytes.byteLength} bytes)`, sh.file, {
        weight: wname,
      });
    }
    const bytes = sh.bytes.subarray(off, off + len);
    if (typeof raw.sha256 === 'string' && createHash('sha256').update(bytes).digest('hex') !== raw.sha256)
      fail('checksum mismatch (sha256)', sh.file, { weight: wname });
    const size = sizeOf(shape);
    const params = (raw.params ?? {}) as Record<string, unknown>;
    const c: Constant = { name: wname, dtype, shape, data: new Float32Array(0) };
    const enc = raw.encoding;
    if (enc === 'raw') {
      if (dtype === 'string') {
        const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const arr: Uint8Array[] = [];
        let p = 0;
        for (let i = 0; i < size; i++) {
          if (p + 4 > len) fail('string data is truncated', sh.file, { weight: wname });
          const n = v.getUint32(p, true);
          if (p + 4 + n > len) fail('string data is truncated', sh.file, { weight: wname });
          arr.push(bytes.slice(p + 4, p + 4 + n));
          p += 4 + n;
        }
        c.data = arr;
      } else {
        const bpv = dtype === 'bool' ? 1 : 4;
        if (len !== size * bpv)
          fail(`raw data has ${len} bytes, shape needs ${size * bpv}`, sh.file, { weight: wname });
        const copy = bytes.slice();
        c.data =
          dtype === 'float32' ? new Float32Array(copy.buffer) : dtype === 'int32' ? new Int32Array(copy.buffer) : copy;
      }
    } else if (enc === 'float16') {
      if (dtype !== 'float32') fail(`encoding 'float16' needs dtype float32`, file, { weight: wname });
      if (len !== size * 2) fail(`float16 data has ${len} bytes, shape needs ${size * 2}`, sh.file, { weight: wname });
      c.data = float16ToFloat32(new Uint16Array(bytes.slice().buffer));
    } else if (enc === 'affine') {
      c.data = decodeAffine(bytes, shape, params, sh.file, wname, c);
    } else if (typeof enc === 'string' && getEncoding(enc)) {
      if (dtype !== 'float32') fail(`encoding '${enc}' needs dtype float32`, file, { weight: wname });
      const values = getEncoding(enc)!.decode(bytes.slice(), { name: wname, dtype, shape, params, file: sh.file });
      if (!(values instanceof Float32Array) || values.length !== size)
        fail(`encoding '${enc}' decoded ${values?.length} values, shape needs ${size}`, sh.file, { weight: wname });
      c.data = values;
      c.quantization = { encoded: { encoding: enc, bytes: bytes.slice(), meta: params } };
    } else {
      fail(`unknown encoding ${JSON.stringify(enc)}`, file, { weight: wname });
    }
    if (raw.tfjsStorage && typeof raw.tfjsStorage === 'object')
      c.quantization = { ...(c.quantization ?? {}), tfjs: raw.tfjsStorage as never };
    if (raw.nonFinite !== undefined && raw.nonFinite !== true)
      fail('nonFinite must be true when present', file, { weight: wname });
    if (hasNonFiniteValues(c.data)) {
      if (raw.nonFinite !== true && !allowNonFinite) {
        const f = c.data as Float32Array;
        const i = f.findIndex((v) => !Number.isFinite(v));
        fail(
          `element ${i} is ${f[i]} but the entry is not marked nonFinite: the file is damaged (pass allowNonFinite to accept it)`,
          sh.file,
          { weight: wname },
        );
      }
      c.nonFinite = true;
    }
    g.constants.set(wname, c);
  }
  const acts = gj.activations;
  if (acts && typeof acts === 'object') g.metadata.activations = acts;
  const quant = gj.quantization;
  if (quant !== undefined) {
    if (!quant || typeof quant !== 'object' || Array.isArray(quant))
      throw new ModelFormatError('graph.quantization must be an object', { file });
    g.metadata.quantization = quant;
  }
  g.metadata.provenance = json.provenance ?? null;
  if (gj.library !== undefined) {
    const lib = gj.library as { function?: unknown };
    if (
      !lib ||
      typeof lib !== 'object' ||
      Array.isArray(lib) ||
      (lib.function !== undefined && !Array.isArray(lib.function))
    )
      fail('graph.library must be an object with a function array', file);
    g.library = lib as Graph['library'];
  }
  g.signature = gj.signature === undefined ? signatureOf(g) : readSignature(gj.signature, g, file);
  topoSort(g, file);
  inferShapes(g);
  return g;
}

/** graph.signature: entries {key, name} whose names are the graph's inputs and outputs, in order. */
function readSignature(v: unknown, g: Graph, file: string): GraphSignature {
  const part = (what: 'inputs' | 'outputs', names: string[]): SignatureEntry[] => {
    const l = (v as Record<string, unknown> | null)?.[what];
    if (!Array.isArray(l) || l.some((e) => !e || typeof e.key !== 'string' || typeof e.name !== 'string'))
      fail(`graph.signature.${what} must be an array of {key, name}`, file);
    const entries = (l as SignatureEntry[]).map((e) => ({ key: e.key, name: e.name }));
    if (entries.length !== names.length || entries.some((e, i) => e.name !== names[i])) {
      fail(
        `graph.signature.${what} names [${entries.map((e) => e.name).join(', ')}], the graph's ${what} are [${names.join(', ')}]`,
        file,
      );
    }
    return entries;
  };
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail('graph.signature must be an object', file);
  return {
    inputs: part(
      'inputs',
      g.inputs.map((i) => i.name),
    ),
    outputs: part('outputs', g.outputs),
  };
}

function decodeAffine(
  bytes: Uint8Array,
  shape: number[],
  p: Record<string, unknown>,
  file: string,
  weight: string,
  c: Constant,
): Float32Array {
  const storage = p.storage;
  if (storage !== 'int8' && storage !== 'uint8' && storage !== 'int4' && storage !== 'int32')
    fail(`affine storage ${JSON.stringify(storage)} is unknown`, file, { weight });
  const size = sizeOf(shape);
  const axis = p.axis;
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -1 || axis >= shape.length)
    fail(`affine axis ${JSON.stringify(axis)} is invalid`, file, { weight });
  const count = p.axisCount ?? 1;
  if (
    typeof count !== 'number' ||
    !Number.isInteger(count) ||
    count < 1 ||
    (axis !== -1 && axis + count > shape.length)
  )
    fail(`affine axisCount ${JSON.stringify(count)} is invalid`, file, { weight });
  if (storage === 'int4' && p.groupSize !== undefined)
    return decodeGroupedInt4(bytes, shape, p, file, weight, c, axis, count);
  const C = axis === -1 ? 1 : shape.slice(axis, axis + count).reduce((a, b) => a * b, 1);
  let scales = p.scales;
  let zps = p.zeroPoints;
  const table = p.scaleTable as { offset?: unknown } | undefined;
  if (table !== undefined && (storage === 'int8' || storage === 'uint8')) {
    // Scales as float32 after the values (zero points all 0 unless listed).
    const off = table?.offset;
    if (typeof off !== 'number' || !Number.isInteger(off) || off !== Math.ceil(size / 4) * 4)
      fail(`affine scaleTable.offset ${JSON.stringify(off)} is invalid (expected ${Math.ceil(size / 4) * 4})`, file, {
        weight,
      });
    if (bytes.byteLength !== off + 4 * C)
      fail(
        `affine ${storage} data with a scale table has ${bytes.byteLength} bytes, shape and ${C} scales need ${off + 4 * C}`,
        file,
        { weight },
      );
    const v = new DataView(bytes.buffer, bytes.byteOffset + off, 4 * C);
    scales = Array.from({ length: C }, (_, i) => v.getFloat32(i * 4, true));
    zps ??= new Array<number>(C).fill(0);
    bytes = bytes.subarray(0, size);
  }
  if (!Array.isArray(scales) || !Array.isArray(zps) || scales.length !== C || zps.length !== C)
    fail(`affine needs ${C} scales and zero points`, file, { weight });
  if (scales.some((s) => typeof s !== 'number' || !(s > 0) || !Number.isFinite(s)))
    fail('affine scales must be finite and > 0', file, { weight });
  if (zps.some((z) => typeof z !== 'number' || !Number.isInteger(z)))
    fail('affine zero points must be integers', file, { weight });
  const need = storage === 'int4' ? Math.ceil(size / 2) : size * (storage === 'int32' ? 4 : 1);
  if (bytes.byteLength !== need)
    fail(`affine ${storage} data has ${bytes.byteLength} bytes, shape needs ${need}`, file, { weight });
  let q: Int8Array | Uint8Array | Int32Array;
  if (storage === 'int4') {
    q = unpackInt4Nibbles(bytes, size);
  } else {
    const copy = bytes.slice();
    q = storage === 'int8' ? new Int8Array(copy.buffer) : storage === 'uint8' ? copy : new Int32Array(copy.buffer);
  }
  const sc = Float32Array.from(scales as number[]);
  const zp = Int32Array.from(zps as number[]);
  const inner = axis === -1 ? 1 : shape.slice(axis + count).reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  // docs/quantization.md §3: x = fl32((q − zp) × scale).
  for (let i = 0; i < size; i++) {
    const ch = axis === -1 ? 0 : Math.floor(i / inner) % C;
    out[i] = Math.fround(q[i]! - zp[ch]!) * sc[ch]!;
  }
  c.quantization = {
    affine: {
      dtype: storage,
      axis,
      ...(count !== 1 ? { axisCount: count } : {}),
      scales: sc,
      zeroPoints: zp,
      values: q,
      ...(p.narrowRange ? { narrowRange: true } : {}),
      ...(typeof p.groupSize === 'number' ? { groupSize: p.groupSize } : {}),
    },
  };
  return out;
}

/** Per-channel 8-bit scales as a float32 table after the values (docs/format.md, `scaleTable`). */
function scaleTable(a: AffineQuantization, valueBytes: number): { tail: Uint8Array; params: Record<string, unknown> } {
  const offset = Math.ceil(valueBytes / 4) * 4;
  const tail = new Uint8Array(offset - valueBytes + a.scales.length * 4);
  const v = new DataView(tail.buffer);
  a.scales.forEach((sc, i) => v.setFloat32(offset - valueBytes + i * 4, sc, true));
  const zeros = Array.from(a.zeroPoints).every((z) => z === 0);
  return { tail, params: { scaleTable: { offset }, ...(zeros ? {} : { zeroPoints: numbers(a.zeroPoints) }) } };
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

/** affine int4 with groupSize (docs/format.md): nibbles, then the group scales (uint8 codes × float32 super-scales, or float16) and optional zero points. */
function decodeGroupedInt4(
  bytes: Uint8Array,
  shape: number[],
  p: Record<string, unknown>,
  file: string,
  weight: string,
  c: Constant,
  axis: number,
  count: number,
): Float32Array {
  if (axis === -1) fail('affine int4 with groupSize needs a channel axis', file, { weight });
  const size = sizeOf(shape);
  let tables: ReturnType<typeof decodeInt4GroupTables>;
  try {
    tables = decodeInt4GroupTables(bytes, size, shape, axis, count, p);
  } catch (e) {
    fail(`affine int4: ${(e as Error).message}`, file, { weight });
  }
  const q = unpackInt4Nibbles(bytes, size);
  const affine: AffineQuantization = {
    dtype: 'int4',
    axis,
    ...(count !== 1 ? { axisCount: count } : {}),
    scales: tables.scales,
    zeroPoints: tables.zeroPoints,
    values: q,
    groupSize: tables.groupSize,
    ...(p.narrowRange ? { narrowRange: true } : {}),
    ...(tables.scaleCodes && tables.superScales
      ? { scaleCodes: tables.scaleCodes, superScales: tables.superScales }
      : {}),
  };
  c.quantization = { affine };
  return dequantizeWeightInt4(affine, shape);
}

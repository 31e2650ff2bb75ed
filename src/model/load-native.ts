// The tfjs-quant model format's reader (docs/format.md; save-native.ts writes it): a
// model.json and its shards back into the IR, every field checked and a ModelFormatError
// naming the file, node or weight for anything malformed.
import { createHash } from 'node:crypto';
import { float16ToFloat32 } from '../kernels/float16.js';
import { ModelFormatError } from './errors.js';
import { getEncoding } from './encodings.js';
import {
  createGraph,
  hasNonFiniteValues,
  signatureOf,
  topoSort,
  type AffineQuantization,
  type Constant,
  type Graph,
  type GraphSignature,
  type Node,
  type SignatureEntry,
} from './ir.js';
import { inferShapes } from './shape-inference.js';
import { decodeInt4GroupTables, dequantizeWeightInt4, unpackInt4Nibbles } from './int4-storage.js';
import { FORMAT_VERSION, KNOWN_EXTENSIONS } from './save-native.js';
import { checkShape, DTYPES, sizeOf, type DType } from '../io/weights.js';
import type { WeightGroupBytes } from '../io/files.js';

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

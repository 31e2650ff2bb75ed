// The tfjs-quant model format (docs/format.md): the IR itself (nodes with canonical ops and
// attributes, opaque nodes with their raw TF attrs), constants in 'raw', 'affine' (per-channel
// integer weights with scales and zero points) or extension encodings ('deep-compression'…),
// activation ranges, and provenance. Versioned and self-describing; deterministic bytes.
// This file writes it; load-native.ts reads it.
import { createHash } from 'node:crypto';
import { float32ToFloat16 } from '../kernels/float16.js';
import { ModelFormatError } from './errors.js';
import {
  hasNonFiniteValues,
  signatureOf,
  type AffineQuantization,
  type AttrValue,
  type Constant,
  type Graph,
  type Node,
} from './ir.js';
import { toolVersion, TOOL_NAME } from './version.js';
import { encodeInt4GroupTables } from './int4-storage.js';
import { writeFilesAtomic, type OutputFile } from '../io/atomic.js';
import { encodeStrings } from '../io/weights.js';

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
    return encodeStrings(c.data as Uint8Array[]);
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

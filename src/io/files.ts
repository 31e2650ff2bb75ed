// Reading TF.js model artifacts from disk, memory or a tfjs IOHandler into one form, and a
// file:// IOHandler (load and save) that stock @tensorflow/tfjs can use in Node without
// tfjs-node. Every failure is a ModelFormatError naming the file.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import type { io as tfio } from '@tensorflow/tfjs';
import { ModelFormatError } from './errors.js';
import { writeFilesAtomic } from './atomic.js';
import { checkManifest, checkManifestEntry, type WeightsManifestEntry, type WeightsManifestGroup } from './weights.js';

/** The bytes of one manifest group (its shards concatenated), with where they came from. */
export interface WeightGroupBytes {
  entries: WeightsManifestEntry[];
  bytes: Uint8Array;
  /** Label for errors: the shard file(s) or '<memory>'. */
  file: string;
}

/** A model read from any source, not yet interpreted. */
export interface RawModel {
  /** model.json content (modelTopology, format, signature, …); weightsManifest removed. */
  json: Record<string, unknown>;
  groups: WeightGroupBytes[];
  /** Label of the model file for errors ('…/model.json', '<memory>', '<io-handler>'). */
  file: string;
  /** Files read (never written by savers). */
  files: string[];
  /** sha256 (hex) of model.json and the shards, in order (provenance). */
  sha256: string;
}

/** tfjs ModelArtifacts (structural subset). */
export interface ModelArtifactsLike {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  signature?: unknown;
  userDefinedMetadata?: unknown;
  trainingConfig?: unknown;
  modelInitializer?: unknown;
  initializerSignature?: unknown;
  weightSpecs?: unknown;
  weightData?: ArrayBuffer | ArrayBuffer[] | Uint8Array;
}

/** The in-memory form accepted by the loaders: a model.json object (or its text) and the weights. */
export interface InMemoryModel {
  /** The model.json object, its text, or its bytes (UTF-8, e.g. a Buffer read from a file or the network). */
  modelJson: Record<string, unknown> | string | Uint8Array | ArrayBuffer;
  /** All shards concatenated in manifest order (or the list of shards). */
  weightData?: ArrayBuffer | Uint8Array | (ArrayBuffer | Uint8Array)[];
}

export interface IOHandlerLike {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  load?: () => Promise<any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  save?: (a: any) => Promise<unknown>;
}

const MAX_JSON_BYTES = 1 << 30;
const ARTIFACT_KEYS = [
  'modelTopology',
  'format',
  'generatedBy',
  'convertedBy',
  'signature',
  'userDefinedMetadata',
  'trainingConfig',
  'modelInitializer',
  'initializerSignature',
] as const;

function toBytes(
  x: ArrayBuffer | Uint8Array | (ArrayBuffer | Uint8Array)[] | undefined,
  what: string,
  file: string,
): Uint8Array {
  if (x === undefined || x === null) return new Uint8Array(0);
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (Array.isArray(x)) {
    const parts = x.map((p, i) => toBytes(p, `${what}[${i}]`, file));
    const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.byteLength;
    }
    return out;
  }
  throw new ModelFormatError(`${what} must be an ArrayBuffer, a Uint8Array or an array of them`, { file });
}

function sha256(parts: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function parseJson(text: string, file: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(`not valid JSON (${(e as Error).message})`, { file });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new ModelFormatError('model.json must hold a JSON object', { file });
  return v as Record<string, unknown>;
}

function splitJson(
  obj: Record<string, unknown>,
  file: string,
): { json: Record<string, unknown>; manifest: WeightsManifestGroup[] } {
  if (obj.format === 'tfjs-quant') {
    // tfjs-quant format (docs/format.md): one group per shard, entries decoded by its loader.
    const w = obj.weights as { shards?: unknown } | undefined;
    if (
      !w ||
      typeof w !== 'object' ||
      !Array.isArray(w.shards) ||
      w.shards.some((s) => typeof s !== 'string' || s === '')
    ) {
      throw new ModelFormatError('weights.shards must be an array of file names', { file });
    }
    return { json: obj, manifest: (w.shards as string[]).map((p) => ({ paths: [p], weights: [] })) };
  }
  const { weightsManifest, ...json } = obj;
  if (json.modelTopology === undefined || json.modelTopology === null)
    throw new ModelFormatError('model.json has no modelTopology', { file });
  const manifest =
    weightsManifest === undefined || weightsManifest === null ? [] : checkManifest(weightsManifest, file);
  return { json, manifest };
}

/** A shard path from a manifest, resolved inside the model's directory (no absolute paths, no '..'). */
function shardPath(dir: string, p: string, file: string): string {
  const n = normalize(p);
  if (
    isAbsolute(p) ||
    n.startsWith('..') ||
    n.split(sep).includes('..') ||
    p.includes('\0') ||
    /^[a-z]+:\/\//i.test(p)
  ) {
    throw new ModelFormatError(`shard path '${p}' must be relative to the model directory`, { file });
  }
  return join(dir, n);
}

/** Reads model.json (or a directory holding one) and its shards. */
export async function readModelFiles(path: string): Promise<RawModel> {
  if (typeof path !== 'string' || path === '')
    throw new TypeError(`model path must be a non-empty string, got ${typeof path}`);
  let file = resolve(path.startsWith('file://') ? path.slice(7) : path);
  let st;
  try {
    st = await fs.stat(file);
  } catch (e) {
    throw new ModelFormatError(`cannot read the model (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      file,
    });
  }
  if (st.isDirectory()) {
    file = join(file, 'model.json');
    try {
      st = await fs.stat(file);
    } catch {
      throw new ModelFormatError('directory has no model.json', { file });
    }
  }
  if (!st.isFile()) throw new ModelFormatError('not a regular file', { file });
  if (st.size > MAX_JSON_BYTES)
    throw new ModelFormatError(`model.json is ${st.size} bytes (at most ${MAX_JSON_BYTES})`, { file });
  const jsonBytes = new Uint8Array(await fs.readFile(file));
  const text = new TextDecoder('utf-8', { fatal: false }).decode(jsonBytes);
  const { json, manifest } = splitJson(parseJson(text, file), file);
  const dir = dirname(file);
  const groups: WeightGroupBytes[] = [];
  const files = [file];
  const hashed: Uint8Array[] = [jsonBytes];
  for (const [gi, g] of manifest.entries()) {
    const parts: Uint8Array[] = [];
    const names: string[] = [];
    for (const p of g.paths) {
      const sp = shardPath(dir, p, file);
      let bytes: Uint8Array;
      try {
        const s = await fs.stat(sp);
        if (!s.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOTFILE' });
        bytes = new Uint8Array(await fs.readFile(sp));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new ModelFormatError(
          `${code === 'ENOENT' ? 'missing shard' : `cannot read shard (${code ?? (e as Error).message})`} (weightsManifest[${gi}] of ${file})`,
          { file: sp },
        );
      }
      parts.push(bytes);
      names.push(sp);
      files.push(sp);
      hashed.push(bytes);
    }
    groups.push({ entries: g.weights, bytes: toBytes(parts, 'shards', file), file: names.join(', ') || file });
  }
  return { json, groups, file, files, sha256: sha256(hashed) };
}

/** An in-memory model: {modelJson, weightData} (weightData = all shards concatenated). */
export function readModelMemory(m: InMemoryModel, label = '<memory>'): RawModel {
  if (m === null || typeof m !== 'object') throw new TypeError('model must be an object {modelJson, weightData}');
  let text: string | undefined;
  if (typeof m.modelJson === 'string') text = m.modelJson;
  else if (m.modelJson instanceof Uint8Array || m.modelJson instanceof ArrayBuffer) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(m.modelJson);
    } catch {
      throw new ModelFormatError('modelJson bytes are not UTF-8 text', { file: label });
    }
  }
  let obj: Record<string, unknown>;
  if (text !== undefined) obj = parseJson(text, label);
  else if (m.modelJson !== null && typeof m.modelJson === 'object' && !Array.isArray(m.modelJson))
    obj = m.modelJson as Record<string, unknown>;
  else
    throw new ModelFormatError(
      `modelJson must be an object, JSON text or its bytes, got ${m.modelJson === null ? 'null' : Array.isArray(m.modelJson) ? 'an array' : typeof m.modelJson}`,
      { file: label },
    );
  const { json, manifest } = splitJson(obj, label);
  const bytes = toBytes(m.weightData, 'weightData', label);
  const entries = manifest.flatMap((g) => g.weights);
  const jsonBytes = new TextEncoder().encode(text ?? JSON.stringify(obj));
  if (json.format === 'tfjs-quant') {
    const parts = Array.isArray(m.weightData)
      ? m.weightData.map((p, i) => toBytes(p, `weightData[${i}]`, label))
      : [bytes];
    if (parts.length !== manifest.length)
      throw new ModelFormatError(`the model lists ${manifest.length} shards, weightData has ${parts.length}`, {
        file: label,
      });
    return {
      json,
      groups: parts.map((b) => ({ entries: [], bytes: b, file: label })),
      file: label,
      files: [],
      sha256: sha256([jsonBytes, bytes]),
    };
  }
  return singleBuffer(json, entries, bytes, jsonBytes, label);
}

/** A model whose weights arrive as one buffer (no files on disk): one group, or none when empty. */
function singleBuffer(
  json: Record<string, unknown>,
  entries: WeightsManifestEntry[],
  bytes: Uint8Array,
  jsonBytes: Uint8Array,
  label: string,
): RawModel {
  return {
    json,
    groups: entries.length || bytes.byteLength ? [{ entries, bytes, file: label }] : [],
    file: label,
    files: [],
    sha256: sha256([jsonBytes, bytes]),
  };
}

/** Loads through a tfjs IOHandler (anything with load() returning ModelArtifacts). */
export async function readModelHandler(handler: IOHandlerLike, label = '<io-handler>'): Promise<RawModel> {
  if (handler === null || typeof handler !== 'object' || typeof handler.load !== 'function') {
    throw new TypeError('handler must be a tfjs IOHandler with a load() method');
  }
  let a: ModelArtifactsLike;
  try {
    a = (await handler.load()) as ModelArtifactsLike;
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    throw new ModelFormatError(`IOHandler.load() failed: ${(e as Error).message}`, { file: label });
  }
  if (a === null || typeof a !== 'object')
    throw new ModelFormatError('IOHandler.load() returned no artifacts', { file: label });
  if (a.modelTopology instanceof ArrayBuffer)
    throw new ModelFormatError('binary (protobuf) topologies are not supported', { file: label });
  const json: Record<string, unknown> = {};
  for (const k of ARTIFACT_KEYS) if (a[k] !== undefined && a[k] !== null) json[k] = a[k];
  if (json.modelTopology === undefined) throw new ModelFormatError('artifacts have no modelTopology', { file: label });
  if (a.weightSpecs !== undefined && !Array.isArray(a.weightSpecs))
    throw new ModelFormatError('weightSpecs must be an array', { file: label });
  const entries = ((a.weightSpecs as unknown[]) ?? []).map((e) => checkManifestEntry(e, label));
  const bytes = toBytes(a.weightData, 'weightData', label);
  const jsonBytes = new TextEncoder().encode(JSON.stringify({ ...json, weightSpecs: entries }));
  return singleBuffer(json, entries, bytes, jsonBytes, label);
}

/** Artifacts in tfjs's ModelArtifacts form (one weightData buffer), e.g. for tf.io.fromMemory. */
export function toArtifacts(
  raw: RawModel,
): ModelArtifactsLike & { weightSpecs: WeightsManifestEntry[]; weightData: ArrayBuffer } {
  const entries = raw.groups.flatMap((g) => g.entries);
  const bytes = toBytes(
    raw.groups.map((g) => g.bytes),
    'weights',
    raw.file,
  );
  const out: Record<string, unknown> = {};
  for (const k of ARTIFACT_KEYS) if (raw.json[k] !== undefined) out[k] = raw.json[k];
  return { ...(out as ModelArtifactsLike), weightSpecs: entries, weightData: bytes.slice().buffer };
}

/** Serializes artifacts as model.json + one weights file (deterministic key order). */
export function artifactsToFiles(
  a: ModelArtifactsLike,
  weightsFile = 'weights.bin',
): { name: string; bytes: Uint8Array }[] {
  const bytes = toBytes(a.weightData, 'weightData', '<artifacts>');
  const specs = (a.weightSpecs as WeightsManifestEntry[] | undefined) ?? [];
  const json: Record<string, unknown> = {};
  for (const k of ARTIFACT_KEYS) if (a[k] !== undefined && a[k] !== null) json[k] = a[k];
  json.weightsManifest = [{ paths: bytes.byteLength || specs.length ? [weightsFile] : [], weights: specs }];
  const files: { name: string; bytes: Uint8Array }[] = [
    { name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(json)) },
  ];
  if (bytes.byteLength || specs.length) files.push({ name: weightsFile, bytes });
  return files;
}

/** A tfjs IOHandler with both load and save. */
export interface FileIOHandler extends tfio.IOHandler {
  load(): Promise<tfio.ModelArtifacts>;
  save(a: tfio.ModelArtifacts): Promise<tfio.SaveResult>;
}

/**
 * A tfjs IOHandler for a local path: load() reads model.json (or a directory holding one)
 * and its shards; save() writes model.json + weights.bin atomically into the directory.
 * Usable with stock tfjs: tf.loadGraphModel(fileIO(p)), model.save(fileIO(dir)).
 */
export function fileIO(path: string): FileIOHandler {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
  const p = path.startsWith('file://') ? path.slice(7) : path;
  return {
    async load() {
      const raw = await readModelFiles(p);
      // Stock tfjs would fail on it with a message about a missing topology: say what it is.
      if (raw.json.format === 'tfjs-quant') {
        throw new ModelFormatError(
          "a tfjs-quant model, which stock TF.js cannot run: load it with tfjs-quant's InferenceSession.create(path) or loadGraphModel(url)",
          { file: raw.file },
        );
      }
      return toArtifacts(raw) as unknown as tfio.ModelArtifacts;
    },
    async save(art: tfio.ModelArtifacts) {
      const a = art as unknown as ModelArtifactsLike;
      if (a.modelTopology instanceof ArrayBuffer) throw new TypeError('binary topologies are not supported');
      const dir = p.endsWith('model.json') ? dirname(p) : p;
      const files = artifactsToFiles(a);
      await writeFilesAtomic(dir, files);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON' as const,
          modelTopologyBytes: files[0]!.bytes.byteLength,
          weightDataBytes: files[1]?.bytes.byteLength ?? 0,
        },
      };
    },
  };
}

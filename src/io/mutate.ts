// Seeded mutation of model files, for the fuzz tests (bounded, in the suite) and the long
// fuzz runs (bench/fuzz): JSON-aware edits of model.json (deleted keys, weird values at any
// depth), truncation, bit flips, shards cut short or padded, missing shards; and plain byte
// mutations for binary formats (.npy, codec streams).
import type { OutputFile } from './atomic.js';

export type Rng = () => number;

const WEIRD: unknown[] = [
  null,
  -1,
  0,
  1e12,
  'x',
  '',
  [],
  {},
  [1, -2],
  true,
  3.5,
  ['a'],
  { dim: 'x' },
  -0,
  2 ** 53,
  'NaN',
];

function pick<T>(r: Rng, a: readonly T[]): T {
  return a[Math.floor(r() * a.length)]!;
}

/** One structural edit somewhere in a parsed JSON value (in place). */
export function mutateJson(r: Rng, v: unknown, depth = 0): void {
  if (v === null || typeof v !== 'object') return;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (!keys.length) return;
  const k = pick(r, keys);
  const roll = r();
  if (depth > 1 && roll < 0.25) {
    if (Array.isArray(o)) o.splice(Number(k), 1);
    else delete o[k];
  } else if (depth > 1 && roll < 0.5) o[k] = pick(r, WEIRD);
  else if (typeof o[k] === 'object' && o[k] !== null) mutateJson(r, o[k], depth + 1);
  else o[k] = pick(r, WEIRD);
}

/** 1–8 random byte-level mutations (flip, set, truncate, insert, delete, duplicate); returns a copy. */
export function mutateBytes(r: Rng, input: Uint8Array): Uint8Array {
  let x = Array.from(input);
  const n0 = 1 + Math.floor(r() * 8);
  for (let m = 0; m < n0; m++) {
    const n = x.length;
    const at = () => Math.floor(r() * n);
    switch (Math.floor(r() * 6)) {
      case 0:
        if (n) x[at()]! ^= 1 << Math.floor(r() * 8);
        break;
      case 1:
        if (n) x[at()] = pick(r, [0, 1, 0x7f, 0x80, 0xff, 0x20, 0x7b, 0x27]);
        break;
      case 2:
        x = x.slice(0, n ? at() : 0);
        break;
      case 3:
        x.splice(n ? at() : 0, 0, ...Array.from({ length: 1 + Math.floor(r() * 16) }, () => Math.floor(r() * 256)));
        break;
      case 4:
        if (n > 1) x.splice(at(), 1 + Math.floor(r() * 8));
        break;
      default:
        if (n) {
          const p = at();
          x.splice(at(), 0, ...x.slice(p, p + 1 + Math.floor(r() * 32)));
        }
    }
  }
  return Uint8Array.from(x);
}

export type ModelMutation = 'json' | 'json×2' | 'truncated-json' | 'bit-flips' | 'shard-size' | 'missing-shard';

/** A mutated copy of a model's files (model.json + shards) and what was done. */
export function mutateModelFiles(r: Rng, base: readonly OutputFile[]): { files: OutputFile[]; kind: ModelMutation } {
  const files = new Map(base.map((f) => [f.name, f.bytes.slice()]));
  const names = [...files.keys()];
  const shards = names.filter((x) => x !== 'model.json');
  const roll = Math.floor(r() * 6);
  let kind: ModelMutation;
  if (roll <= 1) {
    kind = roll === 0 ? 'json' : 'json×2';
    const j = JSON.parse(new TextDecoder().decode(files.get('model.json')!)) as unknown;
    for (let m = 0; m <= roll; m++) mutateJson(r, j);
    files.set('model.json', new TextEncoder().encode(JSON.stringify(j)));
  } else if (roll === 2 || !shards.length) {
    kind = 'truncated-json';
    const t = files.get('model.json')!;
    files.set('model.json', t.subarray(0, Math.floor(r() * t.length)));
  } else if (roll === 3) {
    kind = 'bit-flips';
    const b = files.get(pick(r, names))!;
    for (let f = 0; f < 1 + Math.floor(r() * 4); f++)
      if (b.length) b[Math.floor(r() * b.length)]! ^= 1 << Math.floor(r() * 8);
  } else if (roll === 4) {
    kind = 'shard-size';
    const n = pick(r, shards);
    const b = files.get(n)!;
    files.set(
      n,
      r() < 0.5
        ? b.subarray(0, Math.floor(r() * b.length))
        : Uint8Array.of(...b, ...new Uint8Array(1 + Math.floor(r() * 9))),
    );
  } else {
    kind = 'missing-shard';
    files.delete(pick(r, shards));
  }
  return { files: [...files].map(([name, bytes]) => ({ name, bytes })), kind };
}

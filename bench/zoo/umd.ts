// Reads the TF.js model files that nsfwjs ships as browserify UMD bundles
// (`model.min.js`: `module.exports = {modelTopology: …, weightsManifest: …}`;
// `group1-shardNofM.min.js`: `module.exports = "<base64>"`) WITHOUT executing them: the file
// is parsed with acorn and the value assigned to `*.exports` is read from the syntax tree,
// accepting only literals (objects, arrays, strings, numbers, `!0`/`!1`, unary minus).
// Anything else is refused, so a tampered bundle cannot run code here.
import { parse, type Node } from 'acorn';

type Literal = null | boolean | number | string | Literal[] | { [k: string]: Literal };

interface AnyNode extends Node {
  [k: string]: unknown;
}

function literalValue(n: AnyNode, file: string): Literal {
  switch (n.type) {
    case 'Literal': {
      const v = (n as unknown as { value: unknown }).value;
      if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
      throw new Error(`${file}: unsupported literal at offset ${n.start}`);
    }
    case 'ArrayExpression':
      return (n.elements as (AnyNode | null)[]).map((e) => {
        if (!e) throw new Error(`${file}: array hole at offset ${n.start}`);
        return literalValue(e, file);
      });
    case 'ObjectExpression': {
      const o: Record<string, Literal> = {};
      for (const p of n.properties as AnyNode[]) {
        if (p.type !== 'Property' || p.computed || p.kind !== 'init' || p.method)
          throw new Error(`${file}: not a plain property at offset ${p.start}`);
        const k = p.key as AnyNode;
        const key =
          k.type === 'Identifier'
            ? (k.name as string)
            : k.type === 'Literal'
              ? String((k as unknown as { value: unknown }).value)
              : undefined;
        if (key === undefined) throw new Error(`${file}: unsupported key at offset ${k.start}`);
        o[key] = literalValue(p.value as AnyNode, file);
      }
      return o;
    }
    case 'UnaryExpression': {
      const v = literalValue(n.argument as AnyNode, file);
      if (n.operator === '!' && typeof v === 'number') return !v; // minifiers write true/false as !0/!1
      if (n.operator === '-' && typeof v === 'number') return -v;
      throw new Error(`${file}: unsupported unary '${String(n.operator)}' at offset ${n.start}`);
    }
    default:
      throw new Error(`${file}: '${n.type}' at offset ${n.start} is not a literal`);
  }
}

/** Every node of the tree, depth first. */
function* walk(n: AnyNode): Generator<AnyNode> {
  yield n;
  for (const v of Object.values(n)) {
    if (Array.isArray(v))
      for (const c of v)
        if (c && typeof c === 'object' && typeof (c as AnyNode).type === 'string') yield* walk(c as AnyNode);
    if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as AnyNode).type === 'string')
      yield* walk(v as AnyNode);
  }
}

/** The literal assigned to `<x>.exports` in the bundle (exactly one such assignment of a literal). */
export function umdExport(source: string, file: string): Literal {
  const tree = parse(source, { ecmaVersion: 2020, sourceType: 'script' }) as unknown as AnyNode;
  const found: AnyNode[] = [];
  for (const n of walk(tree)) {
    if (n.type !== 'AssignmentExpression' || n.operator !== '=') continue;
    const left = n.left as AnyNode;
    const right = n.right as AnyNode;
    const prop = left.type === 'MemberExpression' && !left.computed ? (left.property as AnyNode) : undefined;
    if (prop?.name !== 'exports') continue;
    if (['Literal', 'ObjectExpression', 'ArrayExpression'].includes(right.type)) found.push(right);
  }
  if (found.length !== 1)
    throw new Error(`${file}: expected one literal assigned to module.exports, found ${found.length}`);
  return literalValue(found[0]!, file);
}

/** model.json content from a UMD-wrapped model file. */
export function umdModelJson(source: string, file: string): Record<string, unknown> {
  const v = umdExport(source, file);
  if (!v || typeof v !== 'object' || Array.isArray(v) || !('modelTopology' in v) || !('weightsManifest' in v)) {
    throw new Error(`${file}: the exported value is not a TF.js model.json (no modelTopology / weightsManifest)`);
  }
  return v;
}

/** Weight shard bytes from a UMD-wrapped shard file (a base64 string). */
export function umdShardBytes(source: string, file: string): Uint8Array {
  const v = umdExport(source, file);
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v))
    throw new Error(`${file}: the exported value is not a base64 string`);
  return new Uint8Array(Buffer.from(v, 'base64'));
}

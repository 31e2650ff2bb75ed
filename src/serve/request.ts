// A predict request, decoded and checked against the model's signature before it is queued,
// so a bad request is answered 400 on its own and never reaches (or breaks) a batch; and
// the predict response in TF Serving's row ("predictions") or columnar ("outputs") form.
import type { HostTensor, TensorSpec } from '../runtime/session.js';
import type { BinaryTensor } from './binary.js';
import { badRequest } from './errors.js';
import { tensorFromJson, tensorToJson } from './json.js';

export const SIGNATURE_NAME = 'serving_default';

/**
 * One input of a request, checked, not yet in a batch: the batcher copies its values into the
 * batch once (JSON: the typed array decoded from the body; binary: the bytes, straight out of
 * the body's chunks).
 */
export interface RequestTensor {
  shape: number[];
  /** Values (checked to be the product of the shape). */
  size: number;
  /** Copies the values into `dst` (an array of the input's dtype) from element `at` on. */
  copyTo(dst: HostTensor['data'], at: number): void;
}

/** A decoded typed array as a request tensor. */
export function arrayTensor(data: HostTensor['data'], shape: number[]): RequestTensor {
  return { shape, size: data.length, copyTo: (dst, at) => dst.set(data, at) };
}

/** A tensor of a binary body as a request tensor (its bytes copied out of the body's chunks). */
export function binaryTensor(t: BinaryTensor): RequestTensor & { dtype: string } {
  return {
    dtype: t.dtype,
    shape: t.shape,
    size: t.size,
    copyTo: (dst, at) =>
      t.bytes.copyTo(
        new Uint8Array(dst.buffer, dst.byteOffset + at * dst.BYTES_PER_ELEMENT, t.byteLength),
        0,
        t.begin,
        t.byteLength,
      ),
  };
}

export interface PredictInput {
  tensors: Map<string, RequestTensor>;
  /** The shared first dimension (the rows this request adds to a batch). */
  rows: number;
  format: 'row' | 'columnar' | 'binary';
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const fmtShape = (s: readonly number[]): string => `[${s.map((d) => (d < 0 ? '?' : d)).join(', ')}]`;

/** Checks every input is given once, with the model's dtype and shape, and all share one batch size. */
function checkAgainstSignature(
  specs: readonly TensorSpec[],
  tensors: Map<string, RequestTensor & { dtype?: string }>,
  format: PredictInput['format'],
): PredictInput {
  const names = specs.map((s) => s.name);
  for (const k of tensors.keys())
    if (!names.includes(k)) throw badRequest(`'${k}' is not an input of the model (inputs: ${names.join(', ')})`);
  let rows: number | undefined;
  for (const spec of specs) {
    const t = tensors.get(spec.name);
    if (!t) throw badRequest(`input '${spec.name}' is missing (inputs: ${names.join(', ')})`);
    if (t.dtype !== undefined && t.dtype !== spec.dtype)
      throw badRequest(`input '${spec.name}' has dtype ${t.dtype}; the model takes ${spec.dtype}`);
    const want = spec.shape;
    if (want.length && !(t.shape.length === want.length && want.every((d, i) => d < 0 || d === t.shape[i]))) {
      throw badRequest(`input '${spec.name}' has shape ${fmtShape(t.shape)}; the model takes ${fmtShape(want)}`);
    }
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.size !== n)
      throw badRequest(`input '${spec.name}' has ${t.size} values; shape ${fmtShape(t.shape)} needs ${n}`);
    if (want[0] === -1) {
      if (t.shape[0] === 0) throw badRequest(`input '${spec.name}' has no rows (shape ${fmtShape(t.shape)})`);
      if (rows !== undefined && t.shape[0] !== rows)
        throw badRequest(
          `inputs disagree on the batch size: '${spec.name}' has ${t.shape[0]} rows, an earlier input ${rows}`,
        );
      rows = t.shape[0]!;
    }
  }
  return { tensors, rows: rows ?? 1, format };
}

function jsonTensor(value: unknown, dtype: TensorSpec['dtype'], what: string): RequestTensor {
  const t = tensorFromJson(value, dtype, what);
  return arrayTensor(t.data, t.shape);
}

/** A JSON predict body ({instances} or {inputs}, optional signature_name) as checked tensors. */
export function decodeJsonPredict(body: unknown, specs: readonly TensorSpec[]): PredictInput {
  if (!isPlainObject(body))
    throw badRequest('the body must be a JSON object with "instances" (row format) or "inputs" (columnar format)');
  const sig = body.signature_name;
  if (sig !== undefined && sig !== SIGNATURE_NAME)
    throw badRequest(`serving signature name ${JSON.stringify(sig)} not found; the model has '${SIGNATURE_NAME}'`);
  const hasRows = 'instances' in body,
    hasCols = 'inputs' in body;
  if (hasRows === hasCols)
    throw badRequest(
      hasRows
        ? 'give either "instances" or "inputs", not both'
        : 'missing "instances" (row format) or "inputs" (columnar format)',
    );
  const tensors = new Map<string, RequestTensor>();
  if (hasRows) {
    const inst = body.instances;
    if (!Array.isArray(inst) || inst.length === 0)
      throw badRequest('"instances" must be a non-empty list (one element per example)');
    // One input: each instance is its value. Several: each instance is {name: value}.
    const named = specs.length > 1 || isPlainObject(inst[0]);
    if (!named) {
      const spec = specs[0]!;
      tensors.set(spec.name, jsonTensor(inst, spec.dtype, 'instances'));
    } else {
      inst.forEach((x, i) => {
        if (!isPlainObject(x))
          throw badRequest(
            `instances[${i}] must be an object {input name: value}, as the model has ${specs.length > 1 ? 'several inputs' : 'named instances in instances[0]'}`,
          );
      });
      const first = inst[0] as Record<string, unknown>;
      for (const k of Object.keys(first))
        if (!specs.some((s) => s.name === k))
          throw badRequest(
            `instances[0]: '${k}' is not an input of the model (inputs: ${specs.map((s) => s.name).join(', ')})`,
          );
      for (const spec of specs) {
        const column = (inst as Record<string, unknown>[]).map((x, i) => {
          if (!(spec.name in x)) throw badRequest(`instances[${i}] has no input '${spec.name}'`);
          return x[spec.name];
        });
        tensors.set(spec.name, jsonTensor(column, spec.dtype, `instances[…]['${spec.name}']`));
      }
    }
  } else {
    const cols = body.inputs;
    if (specs.length === 1 && !isPlainObject(cols))
      tensors.set(specs[0]!.name, jsonTensor(cols, specs[0]!.dtype, 'inputs'));
    else {
      if (!isPlainObject(cols))
        throw badRequest(
          `"inputs" must be an object {input name: value} (the model has inputs ${specs.map((s) => s.name).join(', ')})`,
        );
      for (const [k, v] of Object.entries(cols)) {
        const spec = specs.find((s) => s.name === k);
        if (!spec)
          throw badRequest(`'${k}' is not an input of the model (inputs: ${specs.map((s) => s.name).join(', ')})`);
        tensors.set(k, jsonTensor(v, spec.dtype, `inputs['${k}']`));
      }
    }
  }
  return checkAgainstSignature(specs, tensors, hasRows ? 'row' : 'columnar');
}

/** Binary (safetensors) tensors, checked the same way. */
export function checkBinaryPredict(tensors: Map<string, BinaryTensor>, specs: readonly TensorSpec[]): PredictInput {
  const checked = new Map<string, RequestTensor & { dtype: string }>();
  for (const [name, t] of tensors) checked.set(name, binaryTensor(t));
  return checkAgainstSignature(specs, checked, 'binary');
}

/** TF Serving's predict response: {"predictions": …} for row requests, {"outputs": …} for columnar ones. */
export function encodeJsonPredict(
  outputs: readonly TensorSpec[],
  values: Record<string, HostTensor>,
  input: Pick<PredictInput, 'rows' | 'format'>,
): string {
  const out: string[] = [];
  if (input.format === 'row') {
    for (const o of outputs) {
      const v = values[o.name]!;
      if (v.shape[0] !== input.rows)
        throw badRequest(
          `output '${o.name}' has shape ${fmtShape(v.shape)}, not one row per instance; use the columnar format ("inputs")`,
        );
    }
    out.push('{"predictions":[');
    for (let r = 0; r < input.rows; r++) {
      if (r) out.push(',');
      if (outputs.length === 1) tensorToJson(values[outputs[0]!.name]!, out, r);
      else {
        out.push('{');
        outputs.forEach((o, i) => {
          out.push(`${i ? ',' : ''}${JSON.stringify(o.name)}:`);
          tensorToJson(values[o.name]!, out, r);
        });
        out.push('}');
      }
    }
    out.push(']}');
  } else {
    out.push('{"outputs":');
    if (outputs.length === 1) tensorToJson(values[outputs[0]!.name]!, out);
    else {
      out.push('{');
      outputs.forEach((o, i) => {
        out.push(`${i ? ',' : ''}${JSON.stringify(o.name)}:`);
        tensorToJson(values[o.name]!, out);
      });
      out.push('}');
    }
    out.push('}');
  }
  return out.join('');
}

// The step kinds of a runtime plan: the TypeScript mirror of native/runtime/step_schema.h
// (which says what each slot means). The emitters build steps from named parameters through
// makeStep; test/runtime/step-schema.test.ts checks this table equals the C++ one.
//
// Slot lists: space-separated names in plan order; name[N] takes N values (N a number, or a
// count the step carries: [rank], [n]), name... the rest, name? one value that may be -1
// (a weight) or left out (a temp).
import type { RuntimePlanStep } from '../../binding.js';

export const STEP_SCHEMA = {
  quantize: { inputs: 'x', temps: '', ints: 'zero_point', floats: 'scale', weights: '' },
  dequantize: { inputs: 'x', temps: '', ints: 'zero_point', floats: 'scale', weights: '' },
  conv_i8: {
    inputs: 'x',
    temps: 'col?',
    ints: 'geom[10] x_zero_point y_zero_point qmin qmax',
    floats: '',
    weights: 'w bias? multipliers',
  },
  matmul_i8: {
    inputs: 'x',
    temps: '',
    ints: 'x_zero_point y_zero_point qmin qmax',
    floats: '',
    weights: 'w bias? multipliers',
  },
  conv_dyn: { inputs: 'x', temps: 'col?', ints: 'geom[10] per_row act', floats: 'alpha', weights: 'w w_scales bias?' },
  matmul_dyn: { inputs: 'x', temps: '', ints: 'per_row act', floats: 'alpha', weights: 'w w_scales bias?' },
  conv_dyn4: {
    inputs: 'x',
    temps: 'col?',
    ints: 'geom[10] per_row act group_size',
    floats: 'alpha',
    weights: 'w w_scales w_zero_points? bias?',
  },
  matmul_dyn4: {
    inputs: 'x',
    temps: '',
    ints: 'per_row act group_size',
    floats: 'alpha',
    weights: 'w w_scales w_zero_points? bias?',
  },
  conv_f32: { inputs: 'x', temps: '', ints: 'geom[10] act', floats: 'alpha', weights: 'w bias?' },
  matmul_f32: { inputs: 'x', temps: '', ints: 'act', floats: 'alpha', weights: 'w bias?' },
  dw_i8: {
    inputs: 'x',
    temps: '',
    ints: 'geom[10] multiplier x_zero_point y_zero_point qmin qmax',
    floats: '',
    weights: 'w bias? multipliers',
  },
  dw_f32: { inputs: 'x', temps: '', ints: 'geom[10] multiplier act', floats: 'alpha', weights: 'w bias?' },
  pw_dw_f32: {
    inputs: 'x',
    temps: '',
    ints: 'geom[10] pw_act dw_act',
    floats: 'pw_alpha',
    weights: 'pw_w pw_bias? dw_w dw_bias?',
  },
  pw_dw_i8: {
    inputs: 'x',
    temps: '',
    ints: 'geom[10] x_zero_point mid_zero_point mid_qmin mid_qmax y_zero_point qmin qmax',
    floats: '',
    weights: 'pw_w pw_bias? pw_multipliers dw_w dw_bias? dw_multipliers',
  },
  pw_dw_dyn: {
    inputs: 'x',
    temps: '',
    ints: 'geom[10] pw_act dw_act',
    floats: '',
    weights: 'pw_w pw_w_scales pw_bias? dw_w dw_bias?',
  },
  deconv_i8: {
    inputs: 'dy',
    temps: '',
    ints: 'geom[10] dy_zero_point y_zero_point qmin qmax',
    floats: '',
    weights: 'w bias? multipliers',
  },
  deconv_f32: { inputs: 'dy', temps: '', ints: 'geom[10]', floats: '', weights: 'w bias?' },
  batch_matmul_f32: { inputs: 'a b', temps: '', ints: 'transpose_a transpose_b', floats: '', weights: '' },
  maxpool_i8: { inputs: 'x', temps: '', ints: 'window[8] qmin qmax', floats: '', weights: '' },
  maxpool_f32: { inputs: 'x', temps: '', ints: 'window[8]', floats: '', weights: '' },
  avgpool_i8: {
    inputs: 'x',
    temps: '',
    ints: 'window[8] x_zero_point y_zero_point qmin qmax',
    floats: 'x_scale y_scale',
    weights: '',
  },
  avgpool_f32: { inputs: 'x', temps: '', ints: 'window[8]', floats: '', weights: '' },
  mean_i8: {
    inputs: 'x',
    temps: '',
    ints: 'x_zero_point y_zero_point qmin qmax',
    floats: 'x_scale y_scale',
    weights: '',
  },
  mean_f32: { inputs: 'x', temps: '', ints: '', floats: '', weights: '' },
  binary_i8: {
    inputs: 'a b',
    temps: '',
    ints: 'op a_zero_point b_zero_point y_zero_point qmin qmax',
    floats: 'a_scale b_scale y_scale',
    weights: '',
  },
  binary_f32: { inputs: 'a b', temps: '', ints: 'op act', floats: '', weights: '' },
  lut: { inputs: 'x', temps: '', ints: '', floats: '', weights: 'table' },
  act_f32: { inputs: 'x', temps: '', ints: 'act', floats: 'alpha', weights: '' },
  softmax_i8: { inputs: 'x', temps: '', ints: '', floats: 'x_scale beta', weights: '' },
  softmax_f32: { inputs: 'x', temps: '', ints: '', floats: 'beta', weights: '' },
  prelu_i8: {
    inputs: 'x',
    temps: '',
    ints: 'x_zero_point y_zero_point qmin qmax',
    floats: 'x_scale y_scale',
    weights: 'alpha',
  },
  prelu_f32: { inputs: 'x', temps: '', ints: '', floats: '', weights: 'alpha' },
  concat_i8: {
    inputs: 'x...',
    temps: '',
    ints: 'axis y_zero_point qmin qmax x_zero_points...',
    floats: 'y_scale x_scales...',
    weights: '',
  },
  concat: { inputs: 'x...', temps: '', ints: 'axis', floats: '', weights: '' },
  pad: { inputs: 'x', temps: '', ints: 'before[rank] after[rank] infinite', floats: 'value', weights: '' },
  transpose: { inputs: 'x', temps: '', ints: 'perm[rank]', floats: '', weights: '' },
  resize_nearest: { inputs: 'x', temps: '', ints: 'align_corners half_pixel_centers', floats: '', weights: '' },
  resize_bilinear_i8: {
    inputs: 'x',
    temps: '',
    ints: 'align_corners half_pixel_centers x_zero_point y_zero_point qmin qmax',
    floats: 'x_scale y_scale',
    weights: '',
  },
  resize_bilinear_f32: { inputs: 'x', temps: '', ints: 'align_corners half_pixel_centers', floats: '', weights: '' },
  strided_slice: {
    inputs: 'x',
    temps: '',
    ints: 'n begin[n] end[n] strides[n] begin_mask end_mask ellipsis_mask new_axis_mask shrink_axis_mask',
    floats: '',
    weights: '',
  },
  depth_to_space: { inputs: 'x', temps: '', ints: 'block_size', floats: '', weights: '' },
  copy: { inputs: 'x', temps: '', ints: '', floats: '', weights: '' },
  topk_f32: { inputs: 'x', temps: '', ints: 'k', floats: '', weights: '' },
  take_f32: { inputs: 'x indices', temps: '', ints: '', floats: '', weights: '' },
  cast: { inputs: 'x', temps: '', ints: '', floats: '', weights: '' },
  binary_i32: { inputs: 'a b', temps: '', ints: 'op', floats: '', weights: '' },
  argmax_f32: { inputs: 'x', temps: '', ints: 'axis', floats: '', weights: '' },
  gather_nd: { inputs: 'params indices', temps: '', ints: '', floats: '', weights: '' },
  unary_f32: { inputs: 'x', temps: '', ints: 'op', floats: '', weights: '' },
  gather: { inputs: 'params indices', temps: '', ints: 'axis', floats: '', weights: '' },
  reduce_f32: { inputs: 'x', temps: '', ints: 'n axes[n] op', floats: '', weights: '' },
  sparse_matmul_i8: {
    inputs: 'x',
    temps: '',
    ints: 'x_zero_point y_zero_point qmin qmax m_min m_max',
    floats: '',
    weights: 'w bias? multipliers',
  },
  sparse_conv_i8: {
    inputs: 'x',
    temps: '',
    ints: 'geom[10] x_zero_point y_zero_point qmin qmax m_min m_max',
    floats: '',
    weights: 'w bias? multipliers',
  },
  sparse_matmul_f32: { inputs: 'x', temps: '', ints: 'act m_min m_max', floats: 'alpha', weights: 'w bias?' },
  sparse_conv_f32: { inputs: 'x', temps: '', ints: 'geom[10] act m_min m_max', floats: 'alpha', weights: 'w bias?' },
} as const;

export type StepKind = keyof typeof STEP_SCHEMA;
type Schema = typeof STEP_SCHEMA;

/** The parameter names of a slot list ('geom[10] za' → 'geom' | 'za'). */
type Names<S extends string> = S extends `${infer H} ${infer T}`
  ? Clean<H> | Names<T>
  : S extends ''
    ? never
    : Clean<S>;
type Clean<S extends string> = S extends `${infer N}[${string}]`
  ? N
  : S extends `${infer N}...`
    ? N
    : S extends `${infer N}?`
      ? N
      : S;
type Slots<S extends string> = [Names<S>] extends [never]
  ? Record<string, never>
  : Record<Names<S>, number | readonly number[]>;

/** A step by its named parameters: each schema name given (a number, or the values of a name[N] / name...). */
export interface NamedStep<K extends StepKind> {
  inputs: number[];
  output: number;
  temps?: number[];
  ints?: Slots<Schema[K]['ints']>;
  floats?: Slots<Schema[K]['floats']>;
  weights?: Slots<Schema[K]['weights']>;
}

function tokens(list: string): { name: string; count?: number; rest: boolean }[] {
  return list
    .split(' ')
    .filter(Boolean)
    .map((t) => {
      const br = /^(\w+)\[(\w+)\]$/.exec(t);
      if (br) return { name: br[1]!, count: /^\d+$/.test(br[2]!) ? Number(br[2]) : undefined, rest: false };
      if (t.endsWith('...')) return { name: t.slice(0, -3), rest: true };
      return { name: t.replace(/\?$/, ''), count: 1, rest: false };
    });
}

function flatten(
  kind: string,
  slot: string,
  list: string,
  given: Record<string, number | readonly number[]> | undefined,
): number[] {
  const out: number[] = [];
  const names = tokens(list);
  const left = new Set(Object.keys(given ?? {}));
  for (const t of names) {
    const v = given?.[t.name];
    left.delete(t.name);
    if (v === undefined) throw new Error(`internal: step ${kind}: ${slot} parameter '${t.name}' is missing`);
    const vs = typeof v === 'number' ? [v] : [...v];
    if (t.count !== undefined && vs.length !== t.count)
      throw new Error(
        `internal: step ${kind}: ${slot} parameter '${t.name}' takes ${t.count} values, got ${vs.length}`,
      );
    out.push(...vs);
  }
  if (left.size) throw new Error(`internal: step ${kind}: unknown ${slot} parameter(s) ${[...left].join(', ')}`);
  return out;
}

/** The plan step of a kind from its named parameters, in the schema's order. */
export function makeStep<K extends StepKind>(op: K, s: NamedStep<K>): RuntimePlanStep {
  const k = STEP_SCHEMA[op];
  const step: RuntimePlanStep = { op, inputs: s.inputs, outputs: [s.output] };
  if (s.temps?.length) step.temps = s.temps;
  const ints = flatten(op, 'int', k.ints, s.ints as Record<string, number> | undefined);
  const floats = flatten(op, 'float', k.floats, s.floats as Record<string, number> | undefined);
  const weights = flatten(op, 'weight', k.weights, s.weights as Record<string, number> | undefined);
  if (ints.length) step.ints = ints;
  if (floats.length) step.floats = floats;
  if (weights.length) step.weights = weights;
  return step;
}

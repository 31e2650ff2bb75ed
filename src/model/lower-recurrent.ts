// Keras Embedding, SimpleRNN, LSTM, GRU and Bidirectional layers lowered into canonical graph ops.
//
// Embedding is a GatherV2 of table rows. A recurrent layer over a sequence of known length T is
// unrolled: the input projection x·W of every step is one MatMul over all B·T rows, and each
// step adds h·U (a MatMul with the constant recurrent kernel), slices the gates and applies the
// layer's activations, with the formulas, gate order and order of additions of tfjs-layers
// (LSTM: i, f, c, o; GRU: z, r, h), so execution is bit-identical to model.predict; Keras'
// reset_after GRU (which tfjs-layers itself refuses) follows Keras' formula. The initial states
// are zeros, so step 0 has no recurrent term at all. Every op is one the native runtime and the
// quantizer know (MatMul with a constant weight, Slice, Reshape, ConcatV2, elementwise ops), so
// the unrolled graph runs natively and its MatMuls take int8 weights.
import { addConstant } from './ir.js';
import {
  activation,
  activationName,
  err,
  node,
  sharedConst,
  shapeOf,
  weight,
  type Json,
  type Lowering,
  type TimeMask,
} from './layers-lowering.js';

export type RnnClass = 'SimpleRNN' | 'LSTM' | 'GRU';

/** Layers that consume a time mask (and pass it on only with their sequence output). */
export const RECURRENT_CLASSES: ReadonlySet<string> = new Set(['SimpleRNN', 'LSTM', 'GRU', 'Bidirectional']);

/** Embedding: GatherV2(table, ids, axis 0); ids that are not int32 are cast first, as tfjs-layers does. */
export function lowerEmbedding(L: Lowering, c: Json, ids: string, base: string, layer: string): string {
  const file = L.ctx.file;
  const table = weight(L, layer, 'embeddings')!;
  if (L.g.constants.get(table)!.shape.length !== 2)
    err(`embeddings must be a matrix [input_dim, output_dim], got [${L.g.constants.get(table)!.shape}]`, file, layer);
  const dtype = L.g.tensors.get(ids)?.dtype;
  const idx = dtype === 'int32' ? ids : node(L, `${base}/Cast`, 'Cast', [ids], { DstT: 'int32' });
  const out = node(L, `${base}/GatherV2`, 'GatherV2', [table, idx, sharedConst(L, 'axis0', 'int32', [0])], {
    batch_dims: 0,
  });
  if (c.mask_zero === true) L.masks.set(out, { layer, ids });
  return out;
}

interface Cell {
  cls: RnnClass;
  units: number;
  /** Gate blocks in the kernels: 4 for LSTM, 3 for GRU, 1 for SimpleRNN. */
  gates: number;
  act: string;
  recAct: string;
  resetAfter: boolean;
  kernel: string;
  recurrent: string;
  /** SimpleRNN, GRU: bias of the input projection (tfjs: biasAdd(x·W, b)). */
  inputBias?: string;
  /** LSTM: the bias, added per step after x·W + h·U (tfjs' order, so sums round the same). */
  stepBias?: string;
  /** reset_after GRU: the bias of the recurrent projection [3·units]. */
  recurrentBias?: string;
}

/** Config options of the Keras RNN layers that change results and are not lowered. */
function refuseUnsupported(c: Json, cls: string, file: string, layer: string): void {
  if (c.stateful === true)
    err(`${cls} with stateful: true is not lowered (its state carries over between calls)`, file, layer);
  if (c.time_major === true) err(`${cls} with time_major: true is not lowered`, file, layer);
  if (c.cell !== undefined && c.cell !== null) err(`${cls} with a custom cell is not lowered`, file, layer);
  // dropout / recurrent_dropout act in training only; unroll and implementation do not change results.
}

function constSlice(L: Lowering, w: string, cols: [number, number], key: string): string {
  const have = L.weightConst.get(key);
  if (have) return have;
  const c = L.g.constants.get(w)!;
  const [rows, width] = c.shape.length === 2 ? [c.shape[0]!, c.shape[1]!] : [1, c.shape[0]!];
  const src = c.data as Float32Array;
  const n = cols[1] - cols[0];
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) out.set(src.subarray(r * width + cols[0], r * width + cols[1]), r * n);
  const name = addConstant(L.g, key, 'float32', c.shape.length === 2 ? [rows, n] : [n], out);
  L.weightConst.set(key, name);
  return name;
}

/**
 * Where a recurrent layer's weights are: `<layer>/kernel` as tfjs-layers saves them, or
 * `<layer>/<x>_cell[_n]/kernel` as Keras (TF 2) names them in converted models, which stock
 * tfjs-layers fails to load ("no target variable").
 */
function weightScope(L: Lowering, layer: string): string {
  if (L.ctx.weights.has(`${layer}/kernel`) || L.weightConst.has(`${layer}/kernel`)) return layer;
  const prefix = `${layer}/`;
  const found = [...L.ctx.weights.keys()]
    .filter((k) => k.startsWith(prefix) && k.endsWith('/kernel'))
    .map((k) => k.slice(prefix.length, -'/kernel'.length))
    .filter((mid) => /^[^/]*_cell(_\d+)?$/.test(mid));
  return found.length === 1 ? `${layer}/${found[0]}` : layer;
}

function readCell(L: Lowering, cls: RnnClass, c: Json, inputDim: number, layer: string): Cell {
  const file = L.ctx.file;
  const units = c.units;
  if (typeof units !== 'number' || !Number.isInteger(units) || units <= 0)
    err(`units must be a positive integer, got ${JSON.stringify(units)}`, file, layer);
  const gates = cls === 'LSTM' ? 4 : cls === 'GRU' ? 3 : 1;
  const resetAfter = cls === 'GRU' && c.reset_after === true;
  const scope = weightScope(L, layer);
  const kernel = weight(L, scope, 'kernel')!;
  const recurrent = weight(L, scope, 'recurrent_kernel')!;
  const expect = (w: string, shape: number[]): void => {
    const s = L.g.constants.get(w)!.shape;
    if (s.length !== shape.length || s.some((d, i) => d !== shape[i]))
      err(
        `weight '${w}' has shape [${s}], expected [${shape}] (${units} units, ${inputDim} input features)`,
        file,
        layer,
      );
    if (L.g.constants.get(w)!.dtype !== 'float32') err(`weight '${w}' is not float32`, file, layer);
  };
  expect(kernel, [inputDim, gates * units]);
  expect(recurrent, [units, gates * units]);
  const cell: Cell = {
    cls,
    units,
    gates,
    resetAfter,
    kernel,
    recurrent,
    act: activationName(c, file, layer, 'activation', 'tanh'),
    recAct: activationName(c, file, layer, 'recurrent_activation', 'hard_sigmoid'),
  };
  if (c.use_bias !== false) {
    const b = weight(L, scope, 'bias')!;
    if (resetAfter) {
      // Keras: bias [2, 3·units] = [input bias; recurrent bias].
      expect(b, [2, gates * units]);
      const flat = L.g.constants.get(b)!;
      const rows = (r: number): string => {
        const key = `${b}/${r === 0 ? 'input' : 'recurrent'}`;
        const have = L.weightConst.get(key);
        if (have) return have;
        const name = addConstant(
          L.g,
          key,
          'float32',
          [gates * units],
          (flat.data as Float32Array).slice(r * gates * units, (r + 1) * gates * units),
        );
        L.weightConst.set(key, name);
        return name;
      };
      cell.inputBias = rows(0);
      cell.recurrentBias = rows(1);
    } else {
      expect(b, [gates * units]);
      if (cls === 'LSTM') cell.stepBias = b;
      else cell.inputBias = b;
    }
  }
  return cell;
}

/**
 * SimpleRNN / LSTM / GRU over x [batch, T, features] with T known. Returns [output] or, with
 * return_state, [output, h, (c)]; return_sequences gives [batch, T, units] in step order
 * (reversed time with go_backwards, as Keras).
 */
export function lowerRecurrent(
  L: Lowering,
  cls: RnnClass,
  c: Json,
  x: string,
  base: string,
  layer: string,
  opts: { reverseSequence?: boolean } = {},
): string[] {
  const file = L.ctx.file;
  refuseUnsupported(c, cls, file, layer);
  const xs = shapeOf(L, x);
  if (!xs || xs.length !== 3)
    err(`${cls} needs a rank-3 input [batch, time, features], got ${xs ? `[${xs}]` : 'an unknown shape'}`, file, layer);
  const [, T, D] = xs as [number, number, number];
  if (T < 1)
    err(
      `${cls} is unrolled over time and needs a known sequence length (input shape [${xs}]): give the model a fixed input length`,
      file,
      layer,
    );
  if (D < 1) err(`${cls} needs a known feature size (input shape [${xs}])`, file, layer);
  if (L.g.tensors.get(x)?.dtype !== 'float32') err(`${cls} input must be float32`, file, layer);
  const cell = readCell(L, cls, c, D, layer);
  const { units: u, gates: G } = cell;
  const ints = (v: number[]): string => sharedConst(L, `${base}/ints_${v.join('_')}`, 'int32', v);
  const slice = (t: string, begin: number, width: number, name: string): string =>
    node(L, name, 'Slice', [t, ints([0, begin]), ints([-1, width])]);
  const mask = L.masks.get(x);
  const keep = mask ? maskTensors(L, mask, T, base) : undefined;

  // The input projection of every step at once: [B, T, D] → [B·T, D] · W (+ GRU bias) → [B, T·G·u].
  const flat = node(L, `${base}/inputs_2d`, 'Reshape', [x, ints([-1, D])]);
  // The bias is a separate add, as in tfjs (a bias fused into the MatMul rounds differently).
  let proj = node(L, `${base}/input_proj`, 'MatMul', [flat, cell.kernel], {
    transpose_a: false,
    transpose_b: false,
    activation: 'none',
  });
  if (cell.inputBias) proj = node(L, `${base}/input_proj_bias`, 'AddV2', [proj, cell.inputBias]);
  const projSeq = node(L, `${base}/input_proj_seq`, 'Reshape', [proj, ints([-1, T * G * u])]);
  const matmul = (a: string, w: string, name: string): string =>
    node(L, name, 'MatMul', [a, w], { transpose_a: false, transpose_b: false, activation: 'none' });
  const oneMinus = (t: string, name: string): string =>
    node(L, name, 'Sub', [sharedConst(L, 'one', 'float32', [1]), t]);
  const goBackwards = c.go_backwards === true;

  let h: string | undefined;
  let cState: string | undefined;
  const outputs: string[] = [];
  // GRU without reset_after multiplies r·h by the last third of U: split once into two constants.
  const uZR =
    cls === 'GRU' && !cell.resetAfter ? constSlice(L, cell.recurrent, [0, 2 * u], `${cell.recurrent}/zr`) : undefined;
  const uH =
    cls === 'GRU' && !cell.resetAfter
      ? constSlice(L, cell.recurrent, [2 * u, 3 * u], `${cell.recurrent}/h`)
      : undefined;
  for (let s = 0; s < T; s++) {
    const t = goBackwards ? T - 1 - s : s;
    const p = `${base}/step${s}`;
    let hNew: string;
    let cNew: string | undefined;
    if (cls === 'SimpleRNN') {
      // h = act((x·W + b) + h·U)
      const xt = slice(projSeq, t * u, u, `${p}/x`);
      hNew = activation(
        L,
        cell.act,
        h === undefined ? xt : node(L, `${p}/pre`, 'AddV2', [xt, matmul(h, cell.recurrent, `${p}/h_U`)]),
        `${p}/h`,
      );
    } else if (cls === 'LSTM') {
      // z = x·W + h·U + b; i, f, o = recAct(z blocks 0, 1, 3), g = act(z block 2); c = f·c + i·g; h = o·act(c).
      const xz = slice(projSeq, t * G * u, G * u, `${p}/x`);
      const xhU = h === undefined ? xz : node(L, `${p}/xW_hU`, 'AddV2', [xz, matmul(h, cell.recurrent, `${p}/h_U`)]);
      const z = cell.stepBias ? node(L, `${p}/z`, 'AddV2', [xhU, cell.stepBias]) : xhU;
      const gatesAct = activation(L, cell.recAct, z, `${p}/gates`);
      const i = slice(gatesAct, 0, u, `${p}/i`);
      const f = slice(gatesAct, u, u, `${p}/f`);
      const o = slice(gatesAct, 3 * u, u, `${p}/o`);
      const g = activation(L, cell.act, slice(z, 2 * u, u, `${p}/g_in`), `${p}/g`);
      const ig = node(L, `${p}/i_g`, 'Mul', [i, g]);
      cNew = cState === undefined ? ig : node(L, `${p}/c`, 'AddV2', [node(L, `${p}/f_c`, 'Mul', [f, cState]), ig]);
      hNew = node(L, `${p}/h`, 'Mul', [o, activation(L, cell.act, cNew, `${p}/c_act`)]);
    } else {
      const xzr = slice(projSeq, t * G * u, 2 * u, `${p}/x_zr`);
      const xh = slice(projSeq, t * G * u + 2 * u, u, `${p}/x_h`);
      let zrIn: string;
      let recH: string | undefined; // the recurrent part of the candidate, before the activation
      if (cell.resetAfter) {
        // Keras reset_after: [rz, rr, rh] = h·U + b_rec; hh = act(x_h + r·rh).
        if (h === undefined) {
          zrIn = cell.recurrentBias
            ? node(L, `${p}/zr_in`, 'AddV2', [
                xzr,
                constSlice(L, cell.recurrentBias, [0, 2 * u], `${cell.recurrentBias}/zr`),
              ])
            : xzr;
          recH = cell.recurrentBias
            ? constSlice(L, cell.recurrentBias, [2 * u, 3 * u], `${cell.recurrentBias}/h`)
            : undefined;
        } else {
          const hU = matmul(h, cell.recurrent, `${p}/h_U`);
          const rec = cell.recurrentBias ? node(L, `${p}/h_U_bias`, 'AddV2', [hU, cell.recurrentBias]) : hU;
          zrIn = node(L, `${p}/zr_in`, 'AddV2', [xzr, slice(rec, 0, 2 * u, `${p}/h_zr`)]);
          recH = slice(rec, 2 * u, u, `${p}/h_h`);
        }
      } else {
        zrIn = h === undefined ? xzr : node(L, `${p}/zr_in`, 'AddV2', [xzr, matmul(h, uZR!, `${p}/h_Uzr`)]);
      }
      const zr = activation(L, cell.recAct, zrIn, `${p}/zr`);
      const z = slice(zr, 0, u, `${p}/z`);
      const r = slice(zr, u, u, `${p}/r`);
      if (!cell.resetAfter && h !== undefined) recH = matmul(node(L, `${p}/r_h`, 'Mul', [r, h]), uH!, `${p}/rh_Uh`);
      else if (cell.resetAfter && recH !== undefined) recH = node(L, `${p}/r_rh`, 'Mul', [r, recH]);
      const hh = activation(
        L,
        cell.act,
        recH === undefined ? xh : node(L, `${p}/hh_in`, 'AddV2', [xh, recH]),
        `${p}/hh`,
      );
      // h = z·h_prev + (1 − z)·hh (tfjs: add(mul(z, h), mul(add(1, neg(z)), hh)); 1 + (−z) = 1 − z exactly).
      const fresh = node(L, `${p}/zc_hh`, 'Mul', [oneMinus(z, `${p}/one_minus_z`), hh]);
      hNew = h === undefined ? fresh : node(L, `${p}/h`, 'AddV2', [node(L, `${p}/z_h`, 'Mul', [z, h]), fresh]);
    }
    if (keep) {
      // tfjs: state = new·m + previous·(1 − m) per step; the previous states of step 0 are zeros.
      const m = slice(keep.keep, t, 1, `${p}/mask`);
      const nm = slice(keep.drop, t, 1, `${p}/mask_not`);
      const blend = (fresh: string, prev: string | undefined, name: string): string => {
        const a = node(L, `${name}_new`, 'Mul', [fresh, m]);
        return prev === undefined ? a : node(L, name, 'AddV2', [a, node(L, `${name}_prev`, 'Mul', [prev, nm])]);
      };
      hNew = blend(hNew, h, `${p}/h_masked`);
      if (cNew !== undefined) cNew = blend(cNew, cState, `${p}/c_masked`);
    }
    h = hNew;
    cState = cNew;
    outputs.push(h);
  }

  let output: string;
  if (c.return_sequences === true) {
    const steps = outputs.map((o, s) => node(L, `${base}/step${s}/out`, 'Reshape', [o, ints([-1, 1, u])]));
    // The backward half of a Bidirectional: tfjs reverses its sequence (back to time order).
    if (opts.reverseSequence) steps.reverse();
    output =
      steps.length === 1
        ? steps[0]!
        : node(L, `${base}/sequence`, 'ConcatV2', [...steps, ints([1])], { N: steps.length });
    // tfjs passes the input mask on with the sequence (computeMask), unreversed.
    if (mask) L.masks.set(output, mask);
  } else {
    output = h!;
  }
  if (c.return_state === true) return cls === 'LSTM' ? [output, h!, cState!] : [output, h!];
  return [output];
}

/** The float keep / drop masks [batch, T] of a time mask: min(|ids|, 1) and 1 − that (ids are integers). */
function maskTensors(L: Lowering, mask: TimeMask, T: number, base: string): { keep: string; drop: string } {
  // tfjs compares the ids as given (before any cast) with 0; min(|id|, 1) is that test for integers only.
  if (L.g.tensors.get(mask.ids)?.dtype !== 'int32')
    err(`the mask of Embedding '${mask.layer}' (mask_zero) is lowered for int32 token ids only`, L.ctx.file, base);
  const ms = shapeOf(L, mask.ids);
  if (!ms || ms.length !== 2 || ms[1] !== T)
    err(
      `the mask of Embedding '${mask.layer}' needs token ids [batch, ${T}], got ${ms ? `[${ms}]` : 'an unknown shape'}`,
      L.ctx.file,
      base,
    );
  if (!mask.keep) {
    const ids = node(L, `${mask.layer}/mask/ids_float`, 'Cast', [mask.ids], { DstT: 'float32' });
    const abs = node(L, `${mask.layer}/mask/abs`, 'Abs', [ids]);
    mask.keep = node(L, `${mask.layer}/mask/keep`, 'Minimum', [abs, sharedConst(L, 'one', 'float32', [1])]);
  }
  const drop = node(L, `${base}/mask_not`, 'Sub', [sharedConst(L, 'one', 'float32', [1]), mask.keep]);
  return { keep: mask.keep, drop };
}

/**
 * Bidirectional(SimpleRNN | LSTM | GRU), as tfjs-layers runs it: a forward copy of the layer and a copy with
 * go_backwards flipped (weights `<name>/forward_<inner>/…`, `<name>/backward_<inner>/…`), the
 * backward sequence reversed to time order, merged by merge_mode (concat on the last axis — the
 * default —, sum, ave, mul, or null: both outputs); with return_state the forward then the
 * backward states follow.
 */
export function lowerBidirectional(L: Lowering, c: Json, x: string, base: string, layer: string): string[] {
  const file = L.ctx.file;
  const inner = c.layer as Json | undefined;
  const cls = inner?.class_name;
  if (cls !== 'LSTM' && cls !== 'GRU' && cls !== 'SimpleRNN')
    err(`Bidirectional wraps ${JSON.stringify(cls)}: only SimpleRNN, LSTM and GRU are lowered`, file, layer);
  const ic = (inner!.config ?? {}) as Json;
  const name = typeof ic.name === 'string' ? ic.name : err('the wrapped layer has no name', file, layer);
  const mode = c.merge_mode === undefined ? 'concat' : c.merge_mode;
  if (mode !== null && !['concat', 'sum', 'ave', 'mul'].includes(String(mode)))
    err(`merge_mode ${JSON.stringify(mode)} is not supported`, file, layer);
  const seq = ic.return_sequences === true;
  const fwd = lowerRecurrent(L, cls, ic, x, `${base}/forward_${name}`, `${layer}/forward_${name}`);
  const bwd = lowerRecurrent(
    L,
    cls,
    { ...ic, go_backwards: ic.go_backwards !== true },
    x,
    `${base}/backward_${name}`,
    `${layer}/backward_${name}`,
    { reverseSequence: seq },
  );
  const [y, yRev] = [fwd[0]!, bwd[0]!];
  const states = [...fwd.slice(1), ...bwd.slice(1)];
  let merged: string[];
  if (mode === null) merged = [y, yRev];
  else if (mode === 'concat')
    merged = [
      node(L, `${base}/concat`, 'ConcatV2', [y, yRev, sharedConst(L, `${base}/axis`, 'int32', [seq ? 2 : 1])], {
        N: 2,
      }),
    ];
  else if (mode === 'sum') merged = [node(L, `${base}/sum`, 'AddV2', [y, yRev])];
  else if (mode === 'mul') merged = [node(L, `${base}/mul`, 'Mul', [y, yRev])];
  else
    merged = [
      node(L, `${base}/ave`, 'Mul', [
        sharedConst(L, 'half', 'float32', [0.5]),
        node(L, `${base}/sum`, 'AddV2', [y, yRev]),
      ]),
    ];
  const mask = L.masks.get(x);
  if (mask && seq) for (const m of merged) L.masks.set(m, mask);
  return [...merged, ...states];
}

// Native float training kernels registered as tfjs kernels for the wasm and cpu backends.
//
// tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter
// or DepthwiseConv2dNativeBackpropInput kernel, so gradients of conv nets fail on it; the
// pure-JS cpu backend has them all but runs the convolutions and pooling gradients in
// scalar JS loops. registerNativeTrainingKernels() installs C++ versions (native/train/)
// for exactly those kernels, remembering what it replaced so unregister… restores it.
import { createRequire } from 'node:module';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { FloatGemmActivation, TrainConvGeom } from '../../binding.js';
import { tf } from '../backend/float.js';
import { native } from '../native/binding.js';
import { assertOneOf, describe } from '../native/validate.js';

export type TrainBackendName = 'wasm' | 'cpu';
export const TRAIN_BACKENDS: readonly TrainBackendName[] = ['wasm', 'cpu'];

export type TrainKernelName =
  | 'Conv2D'
  | 'FusedConv2D'
  | 'Conv2DBackpropInput'
  | 'Conv2DBackpropFilter'
  | 'DepthwiseConv2dNative'
  | 'FusedDepthwiseConv2D'
  | 'DepthwiseConv2dNativeBackpropInput'
  | 'DepthwiseConv2dNativeBackpropFilter'
  | 'MaxPoolGrad'
  | 'AvgPoolGrad'
  | 'BatchMatMul';
export const TRAIN_KERNEL_NAMES: readonly TrainKernelName[] = [
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNative',
  'FusedDepthwiseConv2D',
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'MaxPoolGrad',
  'AvgPoolGrad',
  'BatchMatMul',
];

/**
 * Kernels installed by default per backend. wasm: the three it lacks; MaxPoolGrad, whose
 * wasm 4.22 version is wrong (a window whose values are all negative passes no gradient:
 * see test/train/kernels.test.ts); Conv2DBackpropInput, whose wasm version is a scalar
 * loop (LeNet-5 conv2 backprop: 120 ms vs 8 ms native, bench/train/RESULTS-train.md);
 * BatchMatMul (the dense layers' backward matmuls run at ~1.4 GFLOP/s there). Its forward
 * convs and _FusedMatMul (XNNPACK) and AvgPoolGrad stay. cpu: every convolution,
 * pooling-gradient and matmul kernel (all scalar JS there).
 */
export const DEFAULT_TRAIN_KERNELS: Readonly<Record<TrainBackendName, readonly TrainKernelName[]>> = {
  wasm: [
    'Conv2DBackpropFilter',
    'Conv2DBackpropInput',
    'DepthwiseConv2dNativeBackpropFilter',
    'DepthwiseConv2dNativeBackpropInput',
    'MaxPoolGrad',
    'BatchMatMul',
  ],
  cpu: TRAIN_KERNEL_NAMES,
};

export interface RegisterTrainingKernelsOptions {
  /** Backends to patch (default: wasm when it loads, and cpu). */
  backends?: readonly TrainBackendName[];
  /** Kernels to install (default: DEFAULT_TRAIN_KERNELS[backend]); any of TRAIN_KERNEL_NAMES. */
  kernels?: readonly TrainKernelName[];
}

// ---------------------------------------------------------------- backend data access

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): ArrayBufferView;
  disposeData(dataId: object, force?: boolean): boolean;
}
interface CpuBackendLike {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

type Compute = (inputs: Float32Array[], out: Float32Array) => void;

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Runs `compute` with the inputs' float32 data and a fresh output of `outShape`. */
function runOn(
  backendName: TrainBackendName,
  backend: unknown,
  inputs: TensorInfo[],
  outShape: number[],
  compute: Compute,
): TensorInfo {
  if (backendName === 'wasm') {
    const b = backend as WasmBackendLike;
    // Allocate first: a heap growth detaches earlier views.
    const info = b.makeOutput(outShape, 'float32');
    try {
      const out = b.typedArrayFromHeap(info) as Float32Array;
      const ins = inputs.map((t) => b.typedArrayFromHeap(t) as Float32Array);
      if (out.buffer instanceof ArrayBuffer) {
        compute(ins, out);
      } else {
        // A shared heap (threaded wasm build) cannot cross N-API as an ArrayBuffer: copy.
        const tmp = new Float32Array(out.length);
        compute(
          ins.map((a) => Float32Array.from(a)),
          tmp,
        );
        out.set(tmp);
      }
      return info;
    } catch (e) {
      b.disposeData(info.dataId, true);
      throw e;
    }
  }
  const b = backend as CpuBackendLike;
  const ins = inputs.map((t) => {
    const v = b.readSync(t.dataId);
    return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
  });
  const out = new Float32Array(sizeOf(outShape));
  compute(ins, out);
  return b.makeTensorInfo(outShape, 'float32', out);
}

// ---------------------------------------------------------------- validation helpers

class Unsupported extends Error {}

function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

function needRank4(kernel: string, name: string, shape: unknown): asserts shape is [number, number, number, number] {
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(
      `${kernel}: ${name} must have rank 4 (NHWC / [fh, fw, in, out]), got shape ${Array.isArray(shape) ? shapeStr(shape) : describe(shape)}`,
    );
  }
}

function needShape(kernel: string, name: string, got: readonly number[], want: readonly number[], why: string): void {
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new RangeError(`${kernel}: ${name} has shape ${shapeStr(got)}, expected ${shapeStr(want)} (${why})`);
  }
}

function needFloat32(t: TensorInfo): void {
  if (t.dtype !== 'float32') throw new Unsupported(`dtype ${t.dtype}`);
}

/** A filter [h, w, in, out] must read as many channels as its input [n, h, w, c] has. */
function needInputChannels(
  kernel: string,
  filterName: string,
  filterShape: readonly number[],
  inputName: string,
  inputShape: readonly number[],
): void {
  if (filterShape[2] !== inputShape[3]) {
    throw new RangeError(
      `${kernel}: ${filterName}[2] (${filterShape[2]}) must equal the input channels ${inputName}[3] (${inputShape[3]})`,
    );
  }
}

function needNHWC(attrs: NamedAttrMap): void {
  const f = attrs.dataFormat as string | undefined;
  if (f != null && f !== 'NHWC' && f !== 'channelsLast') throw new Unsupported(`dataFormat ${f}`);
}

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

function geomOf(kernel: string, ci: ConvInfo): TrainConvGeom {
  const g: TrainConvGeom = {
    batch: ci.batchSize,
    inHeight: ci.inHeight,
    inWidth: ci.inWidth,
    inChannels: ci.inChannels,
    outHeight: ci.outHeight,
    outWidth: ci.outWidth,
    outChannels: ci.outChannels,
    filterHeight: ci.filterHeight,
    filterWidth: ci.filterWidth,
    strideHeight: ci.strideHeight,
    strideWidth: ci.strideWidth,
    dilationHeight: ci.dilationHeight,
    dilationWidth: ci.dilationWidth,
    padTop: ci.padInfo.top,
    padLeft: ci.padInfo.left,
  };
  for (const [k, v] of Object.entries(g)) {
    const min = /^(filter|stride|dilation)/.test(k) ? 1 : 0;
    if (!Number.isInteger(v) || v < min || v > 2 ** 31 - 1) {
      throw new RangeError(`${kernel}: invalid ${k} = ${v} (check strides, dilations, pad and shapes)`);
    }
  }
  return g;
}

function convInfo(
  kernel: string,
  xShape: number[],
  filterShape: number[],
  attrs: NamedAttrMap,
  depthwise: boolean,
  useDilations: boolean,
): ConvInfo {
  const dil = (useDilations ? attrs.dilations : 1) ?? 1;
  try {
    return tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      attrs.strides as number | [number, number],
      dil as number | [number, number],
      attrs.pad as 'same' | 'valid',
      attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
      depthwise,
      'channelsLast',
    );
  } catch (e) {
    throw new RangeError(`${kernel}: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------- the kernels

type KernelArgs = Parameters<KernelFunc>[0];
type Impl = (backendName: TrainBackendName, args: KernelArgs & { attrs: NamedAttrMap }) => TensorInfo | TensorInfo[];

/** tfjs fused activation names → the addon's names for them (binding.d.ts NativeActivation). */
const ACTIVATIONS: Record<string, FloatGemmActivation> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  leakyrelu: 'leakyRelu',
};

function convForward(kernel: string, depthwise: boolean, fused: boolean): Impl {
  return (bn, { inputs, backend, attrs }) => {
    const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
    const bias = (inputs as { bias?: TensorInfo }).bias;
    needFloat32(x);
    needFloat32(filter);
    needNHWC(attrs);
    let act: FloatGemmActivation = 'linear';
    if (fused) {
      const a = (attrs.activation as string | undefined) ?? 'linear';
      if (!Object.hasOwn(ACTIVATIONS, a)) throw new Unsupported(`activation ${a}`);
      act = ACTIVATIONS[a];
      if (bias) needFloat32(bias);
    }
    needRank4(kernel, 'x', x.shape);
    needRank4(kernel, 'filter', filter.shape);
    needInputChannels(kernel, 'filter.shape', filter.shape, 'x.shape', x.shape);
    const ci = convInfo(kernel, x.shape, filter.shape, attrs, depthwise, true);
    const g = geomOf(kernel, ci);
    const C = g.outChannels;
    if (bias && sizeOf(bias.shape) !== 1 && sizeOf(bias.shape) !== C) {
      throw new Unsupported(`bias shape ${shapeStr(bias.shape)}`);
    }
    const ins = bias ? [x, filter, bias] : [x, filter];
    return runOn(bn, backend, ins, [g.batch, g.outHeight, g.outWidth, C], (v, out) => {
      if (depthwise) native().trainDepthwiseConv2D(g, v[0], v[1], out);
      else native().trainConv2D(g, v[0], v[1], out);
      if (fused && (bias || act !== 'linear') && out.length > 0) {
        native().trainBiasActivation(out, {
          channels: Math.max(C, 1),
          bias: bias ? v[2] : null,
          activation: act,
          alpha: act === 'leakyRelu' ? Number(attrs.leakyreluAlpha ?? 0.2) : 0,
        });
      }
    });
  };
}

function backpropInput(kernel: string, depthwise: boolean): Impl {
  return (bn, { inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    needFloat32(dy);
    needFloat32(filter);
    needNHWC(attrs);
    const inputShape = attrs.inputShape as number[];
    needRank4(kernel, 'inputShape', inputShape);
    needRank4(kernel, 'filter', filter.shape);
    needRank4(kernel, 'dy', dy.shape);
    needInputChannels(kernel, 'filter.shape', filter.shape, 'inputShape', inputShape);
    const ci = convInfo(kernel, inputShape, filter.shape, attrs, depthwise, depthwise);
    const g = geomOf(kernel, ci);
    needShape(
      kernel,
      'dy',
      dy.shape,
      [g.batch, g.outHeight, g.outWidth, g.outChannels],
      `output of inputShape ${shapeStr(inputShape)} and filter ${shapeStr(filter.shape)}`,
    );
    return runOn(bn, backend, [dy, filter], [...inputShape], (v, out) => {
      if (depthwise) native().trainDepthwiseConv2DBackpropInput(g, v[0], v[1], out);
      else native().trainConv2DBackpropInput(g, v[0], v[1], out);
    });
  };
}

function backpropFilter(kernel: string, depthwise: boolean): Impl {
  return (bn, { inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    needFloat32(x);
    needFloat32(dy);
    needNHWC(attrs);
    const filterShape = attrs.filterShape as number[];
    needRank4(kernel, 'filterShape', filterShape);
    needRank4(kernel, 'x', x.shape);
    needRank4(kernel, 'dy', dy.shape);
    needInputChannels(kernel, 'filterShape', filterShape, 'x.shape', x.shape);
    const ci = convInfo(kernel, x.shape, filterShape, attrs, depthwise, depthwise);
    const g = geomOf(kernel, ci);
    needShape(
      kernel,
      'dy',
      dy.shape,
      [g.batch, g.outHeight, g.outWidth, g.outChannels],
      `output of x ${shapeStr(x.shape)} and filterShape ${shapeStr(filterShape)}`,
    );
    return runOn(bn, backend, [x, dy], [...filterShape], (v, out) => {
      if (depthwise) native().trainDepthwiseConv2DBackpropFilter(g, v[0], v[1], out);
      else native().trainConv2DBackpropFilter(g, v[0], v[1], out);
    });
  };
}

function poolGrad(kernel: string, max: boolean): Impl {
  return (bn, { inputs, backend, attrs }) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    needFloat32(dy);
    needFloat32(input);
    needRank4(kernel, 'input', input.shape);
    needRank4(kernel, 'dy', dy.shape);
    let ci: ConvInfo;
    try {
      ci = tf.backend_util.computePool2DInfo(
        input.shape as [number, number, number, number],
        attrs.filterSize as number | [number, number],
        attrs.strides as number | [number, number],
        1,
        attrs.pad as 'same' | 'valid',
        (max ? attrs.dimRoundingMode : undefined) as 'floor' | undefined,
      );
    } catch (e) {
      throw new RangeError(`${kernel}: ${(e as Error).message}`);
    }
    const g = geomOf(kernel, ci);
    needShape(
      kernel,
      'dy',
      dy.shape,
      [g.batch, g.outHeight, g.outWidth, g.outChannels],
      `pooled shape of input ${shapeStr(input.shape)}`,
    );
    const ins = max ? [input, dy] : [dy];
    return runOn(bn, backend, ins, [...input.shape], (v, out) => {
      if (max) native().trainMaxPoolGrad(g, v[0], v[1], out);
      else native().trainAvgPoolGrad(g, v[0], out);
    });
  };
}

const batchMatMul: Impl = (bn, { inputs, backend, attrs }) => {
  const K_ = 'BatchMatMul';
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  needFloat32(a);
  needFloat32(b);
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw new RangeError(`${K_}: a and b must have rank >= 2, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  }
  const ta = Boolean(attrs.transposeA),
    tb = Boolean(attrs.transposeB);
  const ra = a.shape.length,
    rb = b.shape.length;
  const M = ta ? a.shape[ra - 1] : a.shape[ra - 2];
  const Ka = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = tb ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  if (Ka !== Kb) {
    throw new RangeError(
      `${K_}: inner dimensions differ: a ${shapeStr(a.shape)}${ta ? 'ᵀ' : ''} vs b ${shapeStr(b.shape)}${tb ? 'ᵀ' : ''} (${Ka} vs ${Kb})`,
    );
  }
  const outerA = a.shape.slice(0, -2),
    outerB = b.shape.slice(0, -2);
  const batchA = sizeOf(outerA),
    batchB = sizeOf(outerB);
  let outer: number[];
  try {
    outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    throw new RangeError(`${K_}: batch dimensions ${shapeStr(outerA)} and ${shapeStr(outerB)} do not broadcast`);
  }
  // Native code broadcasts whole batches only (equal outer shapes, or one side of size 1).
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) throw new Unsupported(`partial batch broadcast`);
  return runOn(bn, backend, [a, b], [...outer, M, N], (v, out) =>
    native().trainBatchMatMul(v[0], v[1], out, {
      batchA,
      batchB,
      m: M,
      n: N,
      k: Ka,
      transposeA: ta,
      transposeB: tb,
    }),
  );
};

const IMPLS: Record<TrainKernelName, Impl> = {
  BatchMatMul: batchMatMul,
  Conv2D: convForward('Conv2D', false, false),
  FusedConv2D: convForward('FusedConv2D', false, true),
  Conv2DBackpropInput: backpropInput('Conv2DBackpropInput', false),
  Conv2DBackpropFilter: backpropFilter('Conv2DBackpropFilter', false),
  DepthwiseConv2dNative: convForward('DepthwiseConv2dNative', true, false),
  FusedDepthwiseConv2D: convForward('FusedDepthwiseConv2D', true, true),
  DepthwiseConv2dNativeBackpropInput: backpropInput('DepthwiseConv2dNativeBackpropInput', true),
  DepthwiseConv2dNativeBackpropFilter: backpropFilter('DepthwiseConv2dNativeBackpropFilter', true),
  MaxPoolGrad: poolGrad('MaxPoolGrad', true),
  AvgPoolGrad: poolGrad('AvgPoolGrad', false),
};

// ---------------------------------------------------------------- registration

interface Installed {
  original?: KernelConfig;
}
const installed = new Map<string, Installed>();
const keyOf = (backend: string, kernel: string) => `${backend}/${kernel}`;
const require = createRequire(import.meta.url);

function ensureBackendModule(name: TrainBackendName): boolean {
  if (name === 'cpu') return true; // bundled with @tensorflow/tfjs
  try {
    // Its kernels must be registered before ours replace them (a later load would
    // overwrite our registrations).
    require('@tensorflow/tfjs-backend-wasm');
    return true;
  } catch {
    return false;
  }
}

function makeConfig(backendName: TrainBackendName, kernelName: TrainKernelName, original?: KernelConfig): KernelConfig {
  const impl = IMPLS[kernelName];
  const kernelFunc = ((args: KernelArgs) => {
    try {
      return impl(backendName, { ...args, attrs: args.attrs ?? {} });
    } catch (e) {
      if (e instanceof Unsupported) {
        if (original) return original.kernelFunc(args);
        throw new TypeError(
          `${kernelName} (native, ${backendName}): unsupported ${e.message}; only float32 NHWC ` +
            `with linear/relu/relu6/leakyrelu fused activations is implemented`,
        );
      }
      throw e;
    }
  }) as KernelFunc;
  return { kernelName, backendName, kernelFunc, setupFunc: original?.setupFunc, disposeFunc: original?.disposeFunc };
}

/**
 * Registers the native training kernels with tfjs for the given backends (default: wasm
 * when it loads, and cpu). Idempotent. Returns the `backend/kernel` pairs newly installed.
 */
export function registerNativeTrainingKernels(options: RegisterTrainingKernelsOptions = {}): string[] {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  let backends: TrainBackendName[];
  if (options.backends === undefined) {
    backends = TRAIN_BACKENDS.filter((b) => ensureBackendModule(b));
  } else {
    if (!Array.isArray(options.backends))
      throw new TypeError(`options.backends must be an array, got ${describe(options.backends)}`);
    options.backends.forEach((b, i) => assertOneOf(b, TRAIN_BACKENDS, `options.backends[${i}]`));
    backends = [...new Set(options.backends)];
    for (const b of backends) {
      if (!ensureBackendModule(b))
        throw new Error(`backend '${b}' could not be loaded (@tensorflow/tfjs-backend-${b})`);
    }
  }
  if (options.kernels !== undefined) {
    if (!Array.isArray(options.kernels))
      throw new TypeError(`options.kernels must be an array, got ${describe(options.kernels)}`);
    options.kernels.forEach((k, i) => assertOneOf(k, TRAIN_KERNEL_NAMES, `options.kernels[${i}]`));
  }
  native(); // fail here, clearly, when the addon is missing
  const added: string[] = [];
  for (const b of backends) {
    const names = options.kernels ?? DEFAULT_TRAIN_KERNELS[b];
    for (const k of names) {
      const key = keyOf(b, k);
      if (installed.has(key)) continue;
      const original = tf.getKernel(k, b);
      if (original) tf.unregisterKernel(k, b);
      tf.registerKernel(makeConfig(b, k, original));
      installed.set(key, { original });
      added.push(key);
    }
  }
  return added;
}

/** Removes the native kernels (all, or those of `backends`), restoring the kernels they replaced. */
export function unregisterNativeTrainingKernels(options: { backends?: readonly TrainBackendName[] } = {}): string[] {
  const backends = options.backends ?? TRAIN_BACKENDS;
  if (!Array.isArray(backends)) throw new TypeError(`options.backends must be an array, got ${describe(backends)}`);
  backends.forEach((b, i) => assertOneOf(b, TRAIN_BACKENDS, `options.backends[${i}]`));
  const removed: string[] = [];
  for (const [key, { original }] of [...installed]) {
    const [b, k] = key.split('/') as [TrainBackendName, TrainKernelName];
    if (!backends.includes(b)) continue;
    tf.unregisterKernel(k, b);
    if (original) tf.registerKernel(original);
    installed.delete(key);
    removed.push(key);
  }
  return removed;
}

/** The `backend/kernel` pairs currently served by native code. */
export function nativeTrainingKernels(): string[] {
  return [...installed.keys()];
}

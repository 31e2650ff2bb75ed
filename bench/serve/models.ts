// The served models of the load benchmark, built the same way (same seeds) by the benchmark
// (int8, for tfjs-quant serve) and by the tfjs baseline server (float, run by tfjs itself):
//   mobilenet: MobileNetV2-style, 224×224×3 → 1000 classes (bench/models/models.ts), ≈0.3 GMAC;
//              requests carry one float32 image as a binary (safetensors) body, 602 KB.
//   mlp:       LeNet-300-100 (784 → 300 → 100 → 10), requests carry one 28×28×1 image as JSON.
import { tf } from '../../src/backend/float.js';
import { buildLeNet300100 } from '../../src/data/models.js';
import { encodeBinary } from '../../src/serve/binary.js';
import { variedInput } from '../../test/runtime/helpers.js';
import { mobileNetV2 } from '../models/models.js';

export type ServeModelName = 'mobilenet' | 'mlp';

export const SERVE_MODELS: Record<
  ServeModelName,
  { build: () => tf.LayersModel; shape: number[]; body: 'binary' | 'json' }
> = {
  mobilenet: { build: () => mobileNetV2(224, 1, 1000), shape: [224, 224, 3], body: 'binary' },
  mlp: { build: () => buildLeNet300100({ seed: 1 }), shape: [28, 28, 1], body: 'json' },
};

/** Input values of one request (deterministic). */
export function requestInput(name: ServeModelName): Float32Array {
  const t = variedInput([1, ...SERVE_MODELS[name].shape], 42);
  const data = t.dataSync() as Float32Array;
  t.dispose();
  // Three decimals, as a client would send them in JSON.
  return data.map((v) => Math.round(v * 1000) / 1000);
}

function nest(data: Float32Array, shape: number[]): unknown {
  if (shape.length === 1) return Array.from(data);
  const per = data.length / shape[0]!;
  return Array.from({ length: shape[0]! }, (_, i) => nest(data.subarray(i * per, (i + 1) * per), shape.slice(1)));
}

/** The request body and its content type: one example. */
export function requestBody(name: ServeModelName, inputName: string): { body: string | Buffer; contentType: string } {
  const m = SERVE_MODELS[name];
  const x = requestInput(name);
  if (m.body === 'binary')
    return {
      body: encodeBinary({ [inputName]: { data: x, shape: [1, ...m.shape], dtype: 'float32' } }),
      contentType: 'application/octet-stream',
    };
  return { body: JSON.stringify({ instances: [nest(x, m.shape)] }), contentType: 'application/json' };
}

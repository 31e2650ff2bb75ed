// One loaded model version: its sessions, its signature, whether its requests may be batched
// (decided once, at load), and its batcher.
import { loadModel } from '../model/load.js';
import type { Graph } from '../model/ir.js';
import { quantizationInfo } from '../quant/params.js';
import { InferenceSession, type HostTensor, type SessionMemory, type TensorSpec } from '../runtime/session.js';
import { Batcher, type BatcherHooks } from './batcher.js';
import type { PredictInput } from './request.js';

export interface ServableOptions {
  threads: number;
  sessions: number;
  maxBatch: number;
  batchTimeoutMs: number;
  maxQueue: number;
}

export interface BatchPolicy {
  enabled: boolean;
  /** Why requests of this model run one at a time. */
  reason?: string;
}

/**
 * Batching must not change any answer, so it is allowed only where each row of a batch is
 * computed from that row alone with the same arithmetic whatever the batch: every input and
 * output has a free first dimension, nothing runs in tfjs (whose float kernels may pick
 * another summation order for another batch size), and no dynamic-range node quantizes its
 * activations per tensor (the scale would come from the whole batch). Per-row dynamic
 * quantization, int8 and native float nodes compute each row independently.
 */
export function batchPolicy(g: Graph, s: InferenceSession): BatchPolicy {
  const fixed = [...s.inputs, ...s.outputs].find((t) => t.shape[0] !== -1);
  if (fixed)
    return {
      enabled: false,
      reason: `'${fixed.name}' has no free batch dimension (shape [${fixed.shape.join(', ')}])`,
    };
  const tfjs = s.plan.find((p) => p.placement === 'tfjs');
  if (tfjs)
    return {
      enabled: false,
      reason: `node '${tfjs.node}' (${tfjs.op}) runs in tfjs, whose results may depend on the batch size`,
    };
  const dyn = s.plan.find((p) => p.placement === 'native-dynamic' || p.placement === 'native-dynamic-int4');
  if (dyn && quantizationInfo(g)?.dynamic?.granularity !== 'row') {
    return {
      enabled: false,
      reason: `node '${dyn.node}' quantizes its activations per tensor (dynamic range), so a batch would share one scale`,
    };
  }
  return { enabled: true };
}

export class Servable {
  private constructor(
    readonly name: string,
    readonly version: number,
    readonly sessions: readonly InferenceSession[],
    readonly batching: BatchPolicy,
    private readonly batcher: Batcher,
  ) {}

  /** Loads `dir`/model.json once and creates the sessions (threads shared between them). */
  static async load(
    name: string,
    version: number,
    dir: string,
    o: ServableOptions,
    hooks: BatcherHooks = {},
  ): Promise<Servable> {
    const g = await loadModel(dir);
    const threads = Math.max(1, Math.floor(o.threads / o.sessions));
    const sessions: InferenceSession[] = [];
    try {
      for (let i = 0; i < o.sessions; i++) sessions.push(await InferenceSession.create(g, { threads }));
    } catch (e) {
      for (const s of sessions) s.dispose();
      throw e;
    }
    const batching = batchPolicy(g, sessions[0]!);
    const batcher = new Batcher(
      sessions,
      { maxBatch: o.maxBatch, timeoutMs: o.batchTimeoutMs, maxQueue: o.maxQueue, batchable: batching.enabled },
      hooks,
    );
    return new Servable(name, version, sessions, batching, batcher);
  }

  get inputs(): readonly TensorSpec[] {
    return this.sessions[0]!.inputs;
  }
  get outputs(): readonly TensorSpec[] {
    return this.sessions[0]!.outputs;
  }
  get queueDepth(): number {
    return this.batcher.depth;
  }

  /** Weight and arena bytes of all sessions. */
  get memory(): SessionMemory {
    let weightBytes = 0,
      arenaBytes = 0;
    for (const s of this.sessions) {
      const m = s.memory;
      weightBytes += m.weightBytes;
      arenaBytes += m.arenaBytes;
    }
    return { weightBytes, arenaBytes };
  }

  predict(input: PredictInput, signal?: AbortSignal): Promise<Record<string, HostTensor>> {
    return this.batcher.submit(input, signal);
  }

  /** Batches no longer wait for their timeout (shutdown). */
  flush(): void {
    this.batcher.flush();
  }

  /** Finishes every queued and running request, then frees the sessions. */
  async unload(): Promise<void> {
    await this.batcher.drain();
    for (const s of this.sessions) s.dispose();
  }
}

// One model's results in the zoo run (the JSON next to RESULTS-zoo.md holds a list of these).
import type { MeasureResult } from './measure.js';
import type { ReferenceResult } from './reference.js';

export type ZooMode = 'dynamic' | 'int8' | 'float16' | 'int4';
export const ZOO_MODES: readonly ZooMode[] = ['dynamic', 'int8', 'float16', 'int4'];

/** The CLI flags of each harness mode (int8's calibration flags are added by the runner). */
export const MODE_FLAGS: Record<ZooMode, string[]> = {
  dynamic: ['--mode', 'dynamic'],
  int8: ['--mode', 'int8'],
  float16: ['--mode', 'float16'],
  int4: ['--mode', 'dynamic', '--weight-bits', '4'],
};

export interface StepOutcome {
  ok: boolean;
  error?: string;
  seconds: number;
}

export interface ConvertOutcome {
  /** The converter's status ('done', 'degraded', 'failed'), or 'timeout' / 'crashed' for the process. */
  status: string;
  error?: string;
  seconds: number;
  /** The converter's own fidelity figure, as its report gives it. */
  reportedCosine?: number;
  /** Output folder of the written model. */
  output?: string;
  writtenBytes?: number;
}

export interface ModeRow {
  mode: ZooMode;
  convert: ConvertOutcome;
  measure?: MeasureResult & { timedOut?: boolean; seconds?: number };
  /**
   * `--remeasure --rounds N`: the speed-up of each round (float reference, then this session,
   * each alone in its process, rounds one after the other), wall and CPU time; the speed-up
   * reported is their median, with their range.
   */
  speedupRounds?: { wall: number; cpu: number }[];
}

export interface ModelRow {
  id: string;
  origin: 'published' | 'built';
  source: string;
  format: string;
  family: string;
  task: string;
  constructs: string[];
  /** `tfjs-quant inspect` of the original files. */
  inspect: StepOutcome;
  reference: ReferenceResult & { seconds: number };
  inputBytes: number;
  float32Bytes: number;
  modes: ModeRow[];
}

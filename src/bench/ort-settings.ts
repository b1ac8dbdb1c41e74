import { silentLogger } from '../core/log.js';
import { ort } from '../inference/ort.js';
import { OnnxSession, type SessionTuning } from '../inference/session.js';

/** One ONNX Runtime configuration the benchmark compares against the default. */
export interface SettingsVariant {
  readonly name: string;
  readonly threads?: number;
  readonly tuning?: SessionTuning;
  /** Hand session.run a preallocated output tensor (the Node binding's form of IO binding on CPU). */
  readonly preallocatedOutput?: boolean;
}

export const VARIANTS: readonly SettingsVariant[] = [
  { name: 'default (graph all, 2 threads, arena, mem pattern)', threads: 2 },
  { name: 'graph optimisation extended', threads: 2, tuning: { graphOptimizationLevel: 'extended' } },
  { name: 'graph optimisation basic', threads: 2, tuning: { graphOptimizationLevel: 'basic' } },
  { name: 'graph optimisation disabled', threads: 2, tuning: { graphOptimizationLevel: 'disabled' } },
  { name: '1 intra-op thread', threads: 1 },
  { name: 'no CPU memory arena', threads: 2, tuning: { enableCpuMemArena: false } },
  { name: 'no memory pattern', threads: 2, tuning: { enableMemPattern: false } },
  { name: 'preallocated output tensor', threads: 2, preallocatedOutput: true },
];

export interface VariantResult {
  readonly name: string;
  readonly medianMs: number;
  readonly minMs: number;
  readonly runs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** session.run of one NCHW model on a width x height frame, `runs` times after two warm-up runs. */
export async function timeVariant(path: string, variant: SettingsVariant, width: number, height: number, scale: number, runs: number): Promise<VariantResult> {
  const session = await OnnxSession.create('bench', path, { device: { device: 'cpu' }, ...(variant.threads ? { threads: variant.threads } : {}), ...(variant.tuning ? { tuning: variant.tuning } : {}), log: silentLogger });
  const T = ort().Tensor;
  const input = new T('float32', Float32Array.from({ length: 3 * width * height }, (_, i) => (i * 7919) % 255), [1, 3, height, width]);
  const output = new T('float32', new Float32Array(3 * width * height * scale * scale), [1, 3, height * scale, width * scale]);
  const once = () => (variant.preallocatedOutput ? session.run({ input }, 'bench', { output }) : session.run({ input }, 'bench'));
  const times: number[] = [];
  try {
    for (let i = 0; i < runs + 2; i++) {
      const t0 = performance.now();
      await once();
      if (i >= 2) times.push(performance.now() - t0);
    }
  } finally {
    await session.release();
  }
  return { name: variant.name, medianMs: median(times), minMs: Math.min(...times), runs };
}

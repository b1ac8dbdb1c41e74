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

/**
 * session.run of one NCHW model on a width x height frame under every variant, round-robin (one run
 * of each in turn, `runs` rounds after two warm-up rounds) so that the load of a shared machine
 * drifts over all of them alike.
 */
export async function timeVariants(path: string, variants: readonly SettingsVariant[], width: number, height: number, scale: number, runs: number): Promise<VariantResult[]> {
  const T = ort().Tensor;
  const input = new T('float32', Float32Array.from({ length: 3 * width * height }, (_, i) => ((i * 7919) % 255) / 255), [1, 3, height, width]);
  const output = new T('float32', new Float32Array(3 * width * height * scale * scale), [1, 3, height * scale, width * scale]);
  const sessions: OnnxSession[] = [];
  for (const v of variants) {
    sessions.push(await OnnxSession.create('bench', path, { device: { device: 'cpu' }, ...(v.threads ? { threads: v.threads } : {}), ...(v.tuning ? { tuning: v.tuning } : {}), log: silentLogger }));
  }
  const times: number[][] = variants.map(() => []);
  try {
    for (let round = 0; round < runs + 2; round++) {
      for (const [i, v] of variants.entries()) {
        const t0 = performance.now();
        await (v.preallocatedOutput ? sessions[i]!.run({ input }, 'bench', { output }) : sessions[i]!.run({ input }, 'bench'));
        if (round >= 2) times[i]!.push(performance.now() - t0);
      }
    }
  } finally {
    for (const s of sessions) await s.release();
  }
  return variants.map((v, i) => ({ name: v.name, medianMs: median(times[i]!), minMs: Math.min(...times[i]!), runs }));
}

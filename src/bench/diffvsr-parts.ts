/** The TypeScript-side pieces of one Stream-DiffVSR frame, timed alone at a given LR size (ms, median of 5). */
import { gaussianNoise } from '../inference/stream-diffvsr/noise.js';
import { ddimStep, stepCoefficients } from '../inference/stream-diffvsr/scheduler.js';
import { quantiseToFrame } from '../inference/stream-diffvsr/quantise.js';
import { meanAbsDifference, normaliseLr } from '../inference/stream-diffvsr/scene-cut.js';

function median(work: () => void, repeats = 5): number {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    work();
    times.push(performance.now() - t0);
  }
  return Math.round(times.sort((a, b) => a - b)[Math.floor(repeats / 2)]! * 100) / 100;
}

export function measureTsParts(h: number, w: number): Record<string, number> {
  const z = new Float32Array(4 * h * w);
  const v = new Float32Array(4 * h * w).fill(0.1);
  const rgb = new Float32Array(3 * h * w).fill(0.4);
  const lr = new Float32Array(3 * h * w);
  const previous = new Float32Array(3 * h * w);
  const hr = new Float32Array(3 * 16 * h * w).fill(0.3);
  const c = stepCoefficients(0.333187819, 0.821521223);
  let draw = 0;
  return {
    noise: median(() => gaussianNoise(42, draw++, z)),
    ddimFourSteps: median(() => {
      for (let i = 0; i < 4; i++) ddimStep(z, v, c);
    }),
    normalise: median(() => normaliseLr(rgb, lr)),
    sceneCutTest: median(() => meanAbsDifference(lr, previous)),
    quantise: median(() => quantiseToFrame(hr)),
  };
}

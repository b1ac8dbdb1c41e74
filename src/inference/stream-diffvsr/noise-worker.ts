/**
 * Worker thread of PrefetchedNoise: draws one frame's noise into the buffer it is sent and sends
 * the buffer back (transferred both ways, so nothing is copied or allocated per frame).
 */
import { parentPort } from 'node:worker_threads';
import { gaussianNoise } from './noise.js';

export interface NoiseRequest {
  readonly seed: number;
  readonly drawIndex: number;
  readonly buffer: ArrayBuffer;
}

parentPort?.on('message', (r: NoiseRequest) => {
  try {
    gaussianNoise(r.seed, r.drawIndex, new Float32Array(r.buffer));
    parentPort!.postMessage({ drawIndex: r.drawIndex, buffer: r.buffer }, [r.buffer]);
  } catch (err) {
    parentPort!.postMessage({ drawIndex: r.drawIndex, error: String(err) });
  }
});

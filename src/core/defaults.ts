/** Every default in one place: the CLI options and the pipeline schema both read these. */
export const DEFAULTS = {
  model: 'bicubic',
  scale: 4,
  device: 'cpu',
  maxInFlight: 2,
  videoCodec: 'libx264',
  crf: 18,
  preset: 'veryfast',
  pngFrameRate: 25,
  /** Stream-DiffVSR: seed of the per-frame latent noise (the reference seeds 42). */
  seed: 42,
  /**
   * Stream-DiffVSR scene-cut threshold, mean absolute LR difference in 0..1: consecutive Vid4 frames
   * measure at most 0.04 (walk, fast motion), cuts between its shots 0.24.
   */
  resetThreshold: 0.1,
} as const;

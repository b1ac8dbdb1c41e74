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
  /** Overlap between neighbouring tiles, in input pixels (--tile-overlap). */
  tileOverlap: 16,
  /** Side of the probe frame that measures a model's memory per pixel (--max-memory). */
  memoryProbeSide: 128,
  /** `frames --out_path`: the reference tool's own default, so it drops in. */
  framesOutPath: './StreamDiffVSR_results/',
} as const;

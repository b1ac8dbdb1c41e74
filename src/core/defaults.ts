/** Every default in one place: the CLI options and the pipeline schema both read these. */
export const DEFAULTS = {
  /** Converted at set-up (`make models`) from npm @upscalerjs/esrgan-slim. */
  model: 'esrgan-slim',
  scale: 4,
  device: 'cpu',
  /** TensorRT engine cache, under the user's cache folder ($XDG_CACHE_HOME, else ~/.cache). */
  engineCacheSubdir: 'stream-sr/trt',
  maxInFlight: 2,
  videoCodec: 'libx264',
  crf: 18,
  preset: 'veryfast',
  pngFrameRate: 25,
  /**
   * Overlap between neighbouring tiles, in input pixels (--tile-overlap). Enough for the deepest
   * bundled model, realesr-general-x4v3 (32 convolutions: a tile edge still shows 20 px inside).
   */
  tileOverlap: 48,
  /** Side of the probe frame that measures a model's memory per pixel (--max-memory). */
  memoryProbeSide: 128,
  /** `frames --out_path`: the reference tool's own default, so it drops in. */
  framesOutPath: './StreamDiffVSR_results/',
} as const;

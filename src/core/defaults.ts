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
} as const;

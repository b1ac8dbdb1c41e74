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
} as const;

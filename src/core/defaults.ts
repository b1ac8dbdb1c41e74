/** Every default in one place: the CLI options and the pipeline schema both read these. */
export const DEFAULTS = {
  /**
   * Committed in models/causal-sr (trained here, issue 6): works offline right after install and
   * beats esrgan-slim on both Vid4 sequences on PSNR-Y in under half its model time per frame.
   */
  model: 'causal-sr',
  scale: 4,
  device: 'cpu',
  /** TensorRT engine cache, under the user's cache folder ($XDG_CACHE_HOME, else ~/.cache). */
  engineCacheSubdir: 'stream-sr/trt',
  maxInFlight: 2,
  videoCodec: 'libx264',
  crf: 18,
  preset: 'veryfast',
  pngFrameRate: 25,
  /** Live sources (rtsp, srt, rtmp, udp, live HLS): what to do when the model falls behind. */
  livePolicy: 'drop',
  /** Frames a live source may hold for the model (queue policy: then an error; fallback: then drops). */
  maxQueue: 100,
  /** Under drop, the source keeps only the newest frame(s) the model has not taken yet. */
  dropQueue: 1,
  fallbackModel: 'bicubic',
  /** A frame later than this from its arrival to its write goes through the fallback model. */
  latencyBudgetMs: 500,
  rtspTransport: 'tcp',
  reconnect: true,
  reconnectInitialDelayMs: 500,
  reconnectMaxDelayMs: 10_000,
  /** 0: keep trying for ever. */
  reconnectMaxAttempts: 0,
  /** A live input that delivers nothing for this long is treated as lost. */
  liveReadTimeoutMs: 5000,
  /** Low-latency encoding for live outputs: x264 zerolatency, a keyframe every second, no B-frames. */
  liveGopSeconds: 1,
  liveTune: 'zerolatency',
  hlsSegmentSeconds: 2,
  hlsListSize: 6,
  restartInitialDelayMs: 1000,
  restartMaxDelayMs: 30_000,
  listen: '127.0.0.1:8080',
  tokenEnv: 'STREAM_SR_TOKEN',
  /**
   * Overlap between neighbouring tiles, in input pixels (--tile-overlap). Enough for the deepest
   * bundled model, realesr-general-x4v3 (32 convolutions: a tile edge still shows 20 px inside).
   */
  tileOverlap: 48,
  /** Side of the probe frame that measures a model's memory per pixel (--max-memory). */
  memoryProbeSide: 128,
  /** `frames --out_path`: the reference tool's own default, so it drops in. */
  framesOutPath: './StreamDiffVSR_results/',

  /** Stream-DiffVSR: seed of the per-frame latent noise (the reference seeds 42). */
  seed: 42,
  /**
   * Stream-DiffVSR scene-cut threshold, mean absolute LR difference in 0..1: consecutive Vid4 frames
   * measure at most 0.04 (walk, fast motion), cuts between its shots 0.24.
   */
  resetThreshold: 0.1,
  /**
   * Change-aware compute (history models): a tile of the LR frame counts as unchanged while no value
   * in it differs by more than this many 8-bit levels from the frame its output was computed from.
   * Measured on opencv's vtest.avi (a fixed camera, MPEG-4 noise): see README, "Fixed cameras".
   */
  changeThreshold: '6',
} as const;

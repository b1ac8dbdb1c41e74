import { DEFAULTS } from '../core/defaults.js';
import { LIVE_POLICIES } from '../sources/live-options.js';
import type { Schema } from './schema.js';
import { modelSchema } from './model-options.js';

/**
 * Inputs and outputs a pipeline file may name: paths and the network protocols stream-sr serves.
 * FFmpeg's pipe:, fd:, concat:, subfile: and the like are refused, so a file handed to the service
 * can only read and write media where it says. FFmpeg also takes `subfile,,start,N,end,M,,:path`
 * (a protocol name ended by a comma), so a scheme-like prefix ended by ',' is refused as well.
 */
const MEDIA_URL = '^(?![a-zA-Z][a-zA-Z0-9+.-]*[:,])|^(file|rtsps?|rtmps?|srt|udp|rtp|https?)://';
const URL_MESSAGE = 'must be a path or a rtsp://, rtmp://, srt://, udp://, rtp://, http(s):// or file:// URL';
/**
 * Input containers a pipeline file may force: media demuxers only. lavfi (a filter graph, which can
 * read any file with movie=), concat (a list of other files), sdp, tee and the like are left out,
 * the same rule as for URLs.
 */
export const PIPELINE_INPUT_FORMATS = [
  'avi', 'dv', 'flv', 'live_flv', 'h264', 'hevc', 'hls', 'image2', 'image2pipe', 'ivf', 'matroska,webm',
  'mjpeg', 'mov,mp4,m4a,3gp,3g2,mj2', 'mpeg', 'mpegts', 'mpegvideo', 'mxf', 'nut', 'rawvideo', 'rtsp', 'yuv4mpegpipe',
];

/**
 * Demuxer and protocol options a pipeline file may set: timeouts, transport, probing and raw-video
 * geometry. Options that widen what FFmpeg may open (concat's `safe`, `protocol_whitelist`, hls's
 * `allowed_extensions`, ...) are not among them.
 */
export const PIPELINE_INPUT_OPTIONS = [
  'analyzeduration', 'probesize', 'fflags', 'max_delay', 'reorder_queue_size', 'buffer_size', 'fifo_size', 'overrun_nonfatal',
  'rtsp_transport', 'rtsp_flags', 'timeout', 'stimeout', 'rw_timeout', 'listen_timeout', 'user_agent', 'headers', 'referer',
  'reconnect', 'reconnect_streamed', 'reconnect_delay_max', 'multiple_requests', 'http_persistent', 'seekable',
  'live_start_index', 'max_reload', 'm3u8_hold_counters', 'latency', 'rcvlatency', 'peerlatency', 'passphrase', 'pbkeylen',
  'streamid', 'mode', 'pkt_size', 'localport', 'localaddr', 'reuse', 'framerate', 'video_size', 'pixel_format', 'start_number',
];

const ms = (description: string, def: number): Schema => ({ type: 'integer', minimum: 0, description, default: def });

const reconnect: Schema = {
  type: 'object',
  description: 'reopening a live source that was lost, with exponential backoff',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', default: DEFAULTS.reconnect },
    initialDelayMs: ms('first wait before reconnecting', DEFAULTS.reconnectInitialDelayMs),
    maxDelayMs: ms('longest wait between attempts', DEFAULTS.reconnectMaxDelayMs),
    maxAttempts: { type: 'integer', minimum: 0, description: 'attempts in a row before the pipeline fails; 0 for no limit', default: DEFAULTS.reconnectMaxAttempts },
  },
};

const source: Schema = {
  type: 'object',
  required: ['url'],
  additionalProperties: false,
  properties: {
    url: { type: 'string', pattern: MEDIA_URL, patternMessage: URL_MESSAGE, description: 'file, folder of PNG frames, or rtsp/rtmp/srt/udp/HLS URL' },
    format: { type: 'string', enum: PIPELINE_INPUT_FORMATS, description: 'force the input container (media demuxers only)' },
    frameRate: { type: 'number', exclusiveMinimum: 0, description: 'frame rate of a PNG folder' },
    rtspTransport: { type: 'string', enum: ['tcp', 'udp'], default: DEFAULTS.rtspTransport },
    readTimeoutMs: { type: 'integer', minimum: 100, description: 'a live source silent this long is treated as lost', default: DEFAULTS.liveReadTimeoutMs },
    options: {
      type: 'object',
      description: 'FFmpeg demuxer and protocol options (timeouts, transport, probing, raw-video geometry), strings',
      additionalProperties: false,
      properties: Object.fromEntries(PIPELINE_INPUT_OPTIONS.map((name) => [name, { type: 'string' }])),
    },
    reconnect,
  },
};

const model = modelSchema();

const policy: Schema = {
  type: 'object',
  description: 'what a live pipeline does when the model falls behind the source',
  additionalProperties: false,
  properties: {
    mode: { type: 'string', enum: LIVE_POLICIES as unknown as string[], default: DEFAULTS.livePolicy },
    fallbackModel: { type: 'string', pattern: '^[A-Za-z0-9._/-]+$', patternMessage: 'must be a model id', default: DEFAULTS.fallbackModel },
    maxQueue: { type: 'integer', minimum: 1, default: DEFAULTS.maxQueue },
    latencyBudgetMs: { type: 'integer', minimum: 1, default: DEFAULTS.latencyBudgetMs },
  },
};

const encoder: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    codec: { type: 'string', pattern: '^[a-z0-9_]+$', patternMessage: 'must be an FFmpeg encoder name', default: DEFAULTS.videoCodec },
    crf: { type: 'number', minimum: 0, maximum: 63, default: DEFAULTS.crf },
    preset: { type: 'string', pattern: '^[a-z]+$', patternMessage: 'must be an encoder preset name', default: DEFAULTS.preset },
    pixelFormat: { type: 'string', pattern: '^[a-z0-9]+$', patternMessage: 'must be a pixel format name' },
  },
};

const sink: Schema = {
  type: 'object',
  required: ['url'],
  additionalProperties: false,
  properties: {
    url: { type: 'string', pattern: MEDIA_URL, patternMessage: URL_MESSAGE, description: 'file, .m3u8 playlist (HLS folder), segment pattern, or rtsp/rtmp/srt/udp URL' },
    format: { type: 'string', pattern: '^[a-z0-9_]+$', patternMessage: 'must be a container name' },
    segmentSeconds: { type: 'number', exclusiveMinimum: 0, description: 'segmented recording: a new file about every N seconds' },
    hls: {
      type: 'object',
      additionalProperties: false,
      properties: {
        segmentSeconds: { type: 'number', exclusiveMinimum: 0, default: DEFAULTS.hlsSegmentSeconds },
        listSize: { type: 'integer', minimum: 1, default: DEFAULTS.hlsListSize },
      },
    },
    rtspTransport: { type: 'string', enum: ['tcp', 'udp'], default: DEFAULTS.rtspTransport },
    encoder,
  },
};

/** The schema of a pipeline file (YAML or JSON); pipelines/pipeline.schema.json is this, for editors. */
export const PIPELINE_SCHEMA: Schema & { $schema: string; title: string } = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'stream-sr pipeline',
  type: 'object',
  required: ['source', 'sinks'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$', patternMessage: 'must be letters, digits, - and _ (it names the pipeline in the API and metrics)' },
    description: { type: 'string' },
    source,
    model,
    policy,
    sinks: { type: 'array', minItems: 1, items: sink },
    maxInFlight: { type: 'integer', minimum: 1, default: DEFAULTS.maxInFlight },
    overwrite: {
      type: 'boolean',
      default: false,
      description: 'replace file outputs that already exist (rerunning a batch job); off: the pipeline refuses to start, as the CLI does without -y',
    },
    restart: {
      type: 'object',
      description: 'restarting the pipeline after a failure, with exponential backoff',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean', description: 'default: on for live sources, off for files' },
        initialDelayMs: ms('first wait before restarting', DEFAULTS.restartInitialDelayMs),
        maxDelayMs: ms('longest wait between restarts', DEFAULTS.restartMaxDelayMs),
        maxRestarts: { type: 'integer', minimum: 0, description: 'restarts in a row before giving up; 0 for no limit', default: 0 },
      },
    },
  },
};

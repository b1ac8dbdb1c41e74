import type { Frame, VideoInfo } from '../core/frame.js';
import type { RunStats } from '../core/stats.js';
import type { Logger } from '../core/log.js';
import type { EncoderSettings } from '../av/output.js';
import type { CopyPacket, SourceInfo } from '../sources/source.js';
import { AvSink } from './av-sink.js';
import { NullSink } from './null-sink.js';
import { PngFolderSink } from './png-folder-sink.js';
import { pictureNames } from './picture-names.js';
import { PNG_PIXEL_FORMATS } from '../av/png-encoder.js';
import { liveEncoder, planOutput, type OutputPlan, type OutputRequest } from './live-outputs.js';
import type { CloseReason, Sink } from './sink.js';

export interface SinkRequest extends OutputRequest {
  readonly encoder: EncoderSettings;
  readonly pixelFormat?: string;
  readonly stats: RunStats;
  readonly log?: Logger;
}

/**
 * Any output: a file or pipe as before, or an HLS folder, segmented recording, RTSP/RTMP/SRT/UDP
 * publish. The muxer and its options are planned from the name; the encoder settings, which
 * depend on the frame rate (one keyframe per second on live outputs), are fixed at open.
 */
export function createSink(req: SinkRequest): Sink {
  const plan = planOutput(req);
  // -f null: frames are taken as the model gives them and dropped; the output name is not opened
  if (plan.kind === 'null') return new NullSink();
  if (plan.kind === 'pictures') {
    const names = pictureNames(req.output);
    return new PngFolderSink({
      dir: names.dir,
      nameOf: (_index, written) => names.nameOf(written),
      formats: PNG_PIXEL_FORMATS,
      ...(req.pixelFormat ? { pixelFormat: req.pixelFormat } : {}),
      stats: req.stats,
      label: req.output,
    });
  }
  return new PlannedSink(req, plan);
}

class PlannedSink implements Sink {
  readonly label: string;
  private inner: AvSink | undefined;

  constructor(
    private readonly req: SinkRequest,
    readonly plan: OutputPlan,
  ) {
    this.label = req.output === '-' ? 'stdout' : req.output;
  }

  get warnings(): readonly string[] {
    return this.inner?.warnings ?? [];
  }

  async open(video: VideoInfo, source: SourceInfo): Promise<void> {
    const { plan, req } = this;
    this.inner = new AvSink({
      output: plan.url,
      ...(plan.format ? { format: plan.format } : {}),
      encoder: liveEncoder(req.encoder, plan, video.frameRate),
      ...(req.pixelFormat ? { pixelFormat: req.pixelFormat } : {}),
      stats: req.stats,
      muxerOptions: plan.muxerOptions,
      ...(plan.closeAfterMs ? { closeAfterMs: plan.closeAfterMs } : {}),
      ...(plan.innerContainer ? { innerContainer: plan.innerContainer } : {}),
      ...(req.log ? { log: req.log } : {}),
      removeIfEmpty: plan.kind === 'file' && plan.url !== '-' && !/^[a-z][a-z0-9+.-]*:/i.test(plan.url),
    });
    await this.inner.open(video, source);
  }

  accepts(): VideoInfo {
    return this.inner!.accepts();
  }

  describe(): string {
    const what = this.plan.kind === 'file' ? '' : ` [${this.plan.kind}${this.plan.lowLatency ? ', low latency' : ''}]`;
    return `${this.inner?.describe() ?? this.label}${what}`;
  }

  write(frame: Frame): Promise<void> {
    return this.inner!.write(frame);
  }

  writeCopy(packet: CopyPacket): Promise<void> {
    return this.inner ? this.inner.writeCopy(packet) : Promise.resolve();
  }

  async close(reason: CloseReason): Promise<void> {
    await this.inner?.close(reason);
  }
}

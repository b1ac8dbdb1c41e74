import { concatMap, type Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { Credit } from '../core/credit.js';
import type { Frame, PixelLayout, VideoInfo } from '../core/frame.js';
import { hasAlpha } from '../av/pixel-formats.js';
import { BrokenPipeError, UsageError, inStage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { RunStats } from '../core/stats.js';
import { modelInput, negotiateLayout, type SrModel } from '../inference/sr-model.js';
import { superResolve } from '../operators/super-resolve.js';
import { describeChain, toModelLayout, toOutputFormat } from '../operators/convert-format.js';
import { checkOutputSize } from '../av/picture-limits.js';
import type { Sink } from '../sinks/sink.js';
import type { Source, SourceInfo } from '../sources/source.js';
import { fromSource } from './from-source.js';

export type RunState = 'idle' | 'running' | 'completed' | 'aborted' | 'failed';

export interface RunOptions {
  readonly source: Source;
  readonly model: SrModel;
  readonly sink: Sink;
  /** Frames between source and sink at most (default 2). */
  readonly maxInFlight?: number;
  /** Aborting ends the input and finishes the output cleanly (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Aborting drops frames still in flight and finishes the output at once (second Ctrl-C). */
  readonly hardSignal?: AbortSignal;
  readonly log: Logger;
  readonly stats?: RunStats;
  /** Extra operators between the source and the model (tests, format checks). */
  readonly before?: ReadonlyArray<OperatorFunction<Frame, Frame>>;
  /** Extra operators between the model and the sink. */
  readonly after?: ReadonlyArray<OperatorFunction<Frame, Frame>>;
  /** Called once the output is negotiated, before the first frame; `formats` says the chain of pixel formats chosen. */
  readonly onStart?: (info: { input: SourceInfo; output: VideoInfo; formats: string }) => void;
  /** Called after each frame is written. */
  readonly onFrame?: (frame: Frame, stats: RunStats) => void;
  readonly credit?: Credit;
}

export interface RunSummary {
  readonly state: RunState;
  readonly framesIn: number;
  readonly framesOut: number;
  readonly input: VideoInfo;
  readonly output: VideoInfo;
  readonly peakInFlight: number;
  readonly stats: RunStats;
  /** The model's own line about the run (change-aware compute: how much was skipped). */
  readonly modelReport?: string;
}

/**
 * Opens the source, negotiates the model's pixel layout and the output through the model (FFmpeg's
 * query_formats and config_output) and opens the sink, all before the first frame; then streams
 * source → [to the model's layout] → superResolve → [to the encoder's format] → sink with a credit
 * bound, each conversion made once per frame and only where the formats differ, and always
 * finalizes the output, whether the run ends, is interrupted or fails.
 */
export async function runPipeline(opts: RunOptions): Promise<RunSummary> {
  const stats = opts.stats ?? new RunStats();
  const { source, model, sink, log } = opts;
  const signal = opts.signal ?? new AbortController().signal;
  let closeReason: 'eof' | 'abort' | 'error' = 'error';
  try {
    const input = await source.open();
    for (const s of input.ignored) log.warn(`input stream ${s} is neither upscaled nor copied`);
    if (input.interlaced) {
      log.warn(`input '${source.label}' is interlaced (${input.interlaced}): each frame's two fields are upscaled together as one progressive picture, which combs where things move; deinterlace it first (ffmpeg -vf bwdif)`);
    }
    checkOutputSize(input.video, model.scale, `input '${source.label}'`);
    const layout = negotiateLayout(model, input.layout ?? 'native');
    const pictures = modelInput(model, input.video, layout);
    const output = await configureFor(model, pictures, layout, source.label);
    await sink.open(output, input);
    for (const w of sink.warnings) log.warn(w);
    const target = sink.accepts();
    const alpha = alphaWarning(input.video.pixelFormat, pictures.pixelFormat, layout, target?.pixelFormat);
    if (alpha) log.warn(alpha);
    const toModel = await toModelLayout(layout, input.video, stats, pictures);
    const toOutput = target ? toOutputFormat(target, model.id, stats) : (f: Observable<Frame>) => f;
    opts.onStart?.({ input, output, formats: describeChain(input.layout ?? 'native', input.video, layout, output, target, pictures) });
    const credit = opts.credit ?? new Credit(opts.maxInFlight ?? 2);
    const frames = fromSource(source, { credit, signal, stats, onCopyPacket: (p) => void sink.writeCopy(p).catch(() => undefined), onWarning: (m) => log.warn(m) });
    const write = concatMap(async (frame: Frame) => {
      try {
        await sink.write(frame);
      } catch (err) {
        throw inStage('sink', err);
      }
      credit.release();
      stats.count('framesOut');
      opts.onFrame?.(frame, stats);
      return frame;
    });
    const pipeline = frames.pipe(
      ...((opts.before ?? []) as [OperatorFunction<Frame, Frame>]),
      toModel,
      superResolve(model, output, stats),
      toOutput,
      ...((opts.after ?? []) as [OperatorFunction<Frame, Frame>]),
      write,
    );
    const hardStopped = await drain(pipeline.subscribe.bind(pipeline), opts.hardSignal);
    closeReason = signal.aborted || hardStopped ? 'abort' : 'eof';
    await sink.close(closeReason);
    const modelReport = model.report?.();
    return {
      ...(modelReport ? { modelReport } : {}),
      state: closeReason === 'eof' ? 'completed' : 'aborted',
      framesIn: stats.get('framesIn'),
      framesOut: stats.get('framesOut'),
      input: input.video,
      output,
      peakInFlight: credit.peakInFlight,
      stats,
    };
  } catch (err) {
    if (!(err instanceof BrokenPipeError)) {
      await sink.close('error').catch((closeErr: unknown) => log.verbose(`closing the output after the error failed too: ${String(closeErr)}`));
    } else {
      await sink.close('error').catch(() => undefined);
    }
    throw err;
  } finally {
    await model.dispose().catch(() => undefined);
    await source.close().catch(() => undefined);
  }
}

/** The model's config_output; a refusal (the input too small, a size an engine was not built for) names the input. */
async function configureFor(model: SrModel, pictures: VideoInfo, layout: PixelLayout, label: string): Promise<VideoInfo> {
  try {
    return await model.configure(pictures, layout);
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`input '${label}': ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * What happens to an input's alpha channel, said when it is lost: float models upscale colour only,
 * and a model that takes pictures of its own form without alpha (a luma model: 8-bit YUV) drops it,
 * so their output is opaque; a native model that takes the source's own pictures (bicubic in
 * swscale) scales alpha with the rest. `modelFormat`: the pictures the model takes.
 */
function alphaWarning(inputFormat: string, modelFormat: string, layout: PixelLayout, outputFormat: string | undefined): string | undefined {
  if (!hasAlpha(inputFormat)) return undefined;
  if (outputFormat && !hasAlpha(outputFormat)) return `the input's alpha channel is dropped: ${outputFormat} has no alpha, the output is opaque`;
  if (layout === 'rgb-float' || !hasAlpha(modelFormat)) return `the input's alpha channel is not upscaled by the model: ${outputFormat ?? 'the output'} is written fully opaque`;
  return undefined;
}

/** Subscribes once; resolves true when the hard signal cut the stream short. */
function drain(subscribe: (o: { next: () => void; error: (e: unknown) => void; complete: () => void }) => Subscription, hard?: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let sub: Subscription | undefined;
    const onHard = (): void => {
      sub?.unsubscribe();
      resolve(true);
    };
    sub = subscribe({
      next: () => undefined,
      error: (e) => {
        hard?.removeEventListener('abort', onHard);
        reject(e);
      },
      complete: () => {
        hard?.removeEventListener('abort', onHard);
        resolve(false);
      },
    });
    if (hard?.aborted) onHard();
    else hard?.addEventListener('abort', onHard, { once: true });
  });
}

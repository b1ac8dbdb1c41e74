import type { Argv, ArgumentsCamelCase, CommandModule } from 'yargs';
import { DEFAULTS } from '../core/defaults.js';
import { UsageError } from '../core/errors.js';
import { runUpscaleJob } from '../pipeline/upscale-job.js';
import { STDOUT_URL, encoderOptions, encoderSettingsFrom, loggerFromArgs, logOptions } from './common-options.js';
import { modelOptions, modelSpecFrom, modelValuesFromArgs } from '../pipeline/model-options.js';
import { reportError } from './errors.js';
import { parseInject, parseRate } from './parse.js';
import { liveOptions, liveSettingsFrom, liveSummary } from './live-options.js';
import type { LivePolicy } from '../sources/live-options.js';

function builder(y: Argv) {
  return liveOptions(encoderOptions(logOptions(modelOptions(y))))
    .option('input', { alias: 'i', type: 'string', demandOption: true, requiresArg: true, describe: "input file, URL, folder of PNG frames, or '-' for stdin" })
    .positional('out', { type: 'string', array: true, describe: 'the output, given last as ffmpeg takes it (instead of -o)' })
    .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: "output file, PNG pictures (up/%04d.png), URL, or '-' for stdout (or give it last, as ffmpeg does)" })
    .option('format', { alias: 'f', type: 'string', requiresArg: true, describe: 'output container (y4m, nut, matroska, mpegts, mp4, mov; null: upscale, write nothing); required with -o -' })
    .option('input-format', { type: 'string', describe: 'force the input container (an FFmpeg demuxer name)' })
    .option('progress', { choices: ['line', 'json'] as const, default: 'line' as const, describe: "line: ffmpeg's progress line (ETA, fps; off with -q); json: one JSON line a second on stderr for scripts, even with -q" })
    .option('framerate', { alias: 'r', type: 'string', describe: 'frame rate of a PNG folder input (default 25)' })
    .option('copyts', { type: 'boolean', default: false, describe: "keep the input's timestamps as they are (ffmpeg's -copyts); without it the output starts at 0, as ffmpeg's does" })
    .option('max-in-flight', { type: 'number', default: DEFAULTS.maxInFlight, describe: 'frames between decoder and encoder at most' })
    .option('inject', { type: 'string', hidden: true, describe: 'fault injection for tests: delayMs=N,errorAfter=N,eosAfter=N,modelDelayMs=N' })
    .option('overwrite', { alias: 'y', type: 'boolean', default: false, describe: 'overwrite the output file' })
    .example('$0 -i in.mp4 -o out.mp4', 'upscale x4 with the default model')
    .example('$0 -i in.mp4 -f null -', 'upscale every frame, write nothing: time a run as ffmpeg does')
    .example('$0 -i in.mkv -o out.mkv --scale 2 --model bicubic', 'x2 with bicubic, audio and subtitles copied')
    .example("ffmpeg -i in.mp4 -f yuv4mpegpipe - | $0 -i - -o - -f y4m | ffmpeg -i - out.mp4", 'as a filter between two ffmpegs')
    .example('$0 -i frames/ -r 30 -o out.mp4', 'a folder of PNG frames in name order')
    .example('$0 -i in.mp4 -o up/%04d.png', 'PNG pictures, numbered from 1')
    .example('$0 -i rtsp://cam/stream -o out/cam/index.m3u8', 'an RTSP camera to a rolling HLS folder')
    .example('$0 -i srt://feed:9000 -o srt://out:9001 --live-policy fallback --model esrgan-slim', 'a live feed, falling back to bicubic when behind')
    .example('$0 -i in.mp4 -o out.mp4 --model stream-diffvsr --model-dir export/ --device cuda', 'Stream-DiffVSR from an ONNX export (see the README)');
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

/** The output from `-o`, or given last as ffmpeg takes it (`-f null -`); one, once. */
export function outputFrom(args: { output?: string | string[] | undefined; out?: string[] | undefined }): string {
  const all = [args.output ?? [], args.out ?? []].flat().map((o) => (o === STDOUT_URL ? '-' : o));
  if (all.length > 1) throw new UsageError(`${all.length} outputs (${all.join(', ')}): stream-sr writes one; give one`);
  const output = all[0];
  if (output === undefined || output === '') throw new UsageError('no output: give -o OUTPUT (a file, a URL, or - for stdout), or the output last as ffmpeg takes it');
  return output;
}

async function handler(args: Args): Promise<void> {
  const log = loggerFromArgs(args);
  try {
    if (args.maxInFlight < 1 || !Number.isInteger(args.maxInFlight)) throw new UsageError('--max-in-flight must be a whole number of at least 1');
    const output = outputFrom(args);
    const result = await runUpscaleJob({
      input: args.input,
      ...(args.inputFormat ? { inputFormat: args.inputFormat } : {}),
      output,
      ...(args.format ? { outputFormat: args.format } : {}),
      model: modelSpecFrom(modelValuesFromArgs(args)),
      encoder: encoderSettingsFrom(args),
      ...(args.pixFmt ? { pixelFormat: args.pixFmt } : {}),
      overwrite: args.overwrite,
      maxInFlight: args.maxInFlight,
      ...(args.framerate ? { frameRate: parseRate(args.framerate, '--framerate') } : {}),
      ...(args.copyts ? { copyTimestamps: true } : {}),
      progress: args.progress === 'json' ? 'json' : !args.quiet,
      ...(args.inject ? { inject: parseInject(args.inject) } : {}),
      live: liveSettingsFrom(args),
      fallbackModel: args.fallbackModel,
      latencyBudgetMs: args.latencyBudget,
      ...(args.segmentTime !== undefined ? { segmentSeconds: args.segmentTime } : {}),
      hlsSegmentSeconds: args.hlsTime,
      hlsListSize: args.hlsListSize,
      log,
    });
    const s = result.summary;
    const extra = result.live ? ` (${liveSummary(result.metrics, args.livePolicy as LivePolicy)})` : '';
    const done = args.format === 'null' ? 'upscaled, none written (-f null)' : `written to ${output === '-' ? 'stdout' : output}`;
    log.info(`${s.framesOut} frame${s.framesOut === 1 ? '' : 's'} ${done}${s.state === 'aborted' ? ' (stopped early)' : ''}${extra}`);
    if (s.modelReport) log.info(s.modelReport);
    const peakRss = `peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`;
    if (result.live) log.verbose(`live queue peak ${s.stats.get('queuePeak')} frames, ${peakRss}`);
    else log.verbose(`at most ${s.peakInFlight} frames in flight (--max-in-flight ${args.maxInFlight}), ${peakRss}`);
    process.exitCode = result.exitCode;
    // the output is finalized; a model call still in flight (ONNX Runtime cannot be interrupted)
    // would keep the process alive until it ends: a second Ctrl-C means now
    if (result.stoppedAtOnce) process.exit(result.exitCode);
  } catch (err) {
    process.exitCode = reportError(err, args.verbose);
  }
}

export const upscaleCommand: CommandModule<object, Args> = {
  command: ['$0 [out..]', 'upscale [out..]'],
  describe: 'upscale a video file, pipe or folder of frames',
  builder: builder as unknown as CommandModule<object, Args>['builder'],
  handler,
};

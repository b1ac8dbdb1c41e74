import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { VideoInfo } from '../core/frame.js';
import { InferenceError, errorMessage } from '../core/errors.js';
import { silentLogger } from '../core/log.js';
import { packageRoot } from '../core/package-root.js';
import { measureMemoryPerPixel, type MemoryEstimate } from '../inference/memory-probe.js';
import type { SessionSettings } from '../inference/session.js';
import type { SrModel } from '../inference/sr-model.js';
import { withTiling, type TilingOptions } from '../inference/tiled-model.js';
import { SwscaleModel } from '../inference/swscale-model.js';
import { loadModel, type LoadModelOptions } from './load.js';

/** What the child process needs to load the same model the same way (everything but the logger). */
export interface MemoryProbeRequest {
  readonly model: string;
  readonly options: Omit<LoadModelOptions, 'session'> & { readonly session: Omit<SessionSettings, 'log'> };
  readonly input: VideoInfo;
  readonly probeSide: number;
}

/**
 * Measures a model's memory per input pixel in a fresh Node process: there, the growth of the
 * peak resident set during a run is the run's own, not hidden by memory this process freed
 * earlier and malloc hands out again.
 */
export function measureInChildProcess(request: MemoryProbeRequest): Promise<MemoryEstimate> {
  const script = join(packageRoot(), 'dist', 'src', 'models', 'measure-memory.js');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, JSON.stringify(request)], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new InferenceError(`model ${request.model}: measuring its memory per pixel failed: ${stderr.trim() || errorMessage(err)}`, { cause: err }));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as MemoryEstimate);
      } catch (parseErr) {
        reject(new InferenceError(`model ${request.model}: the memory probe printed no result (${stdout.slice(0, 200)})`, { cause: parseErr }));
      }
    });
  });
}

/**
 * `model` (loaded as `name` with `options`) wrapped for --tile / --max-memory, with the memory
 * probe run in a child process that loads the same model the same way.
 */
export function withModelTiling(model: SrModel, name: string, options: LoadModelOptions, tiling: TilingOptions | undefined): SrModel {
  if (!tiling) return model;
  // swscale scales whole pictures with a few rows of buffers and no model memory: a budget has
  // nothing to cut (tiles would move it to its float graph, slower and no longer ffmpeg's pixels)
  if (model instanceof SwscaleModel && tiling.tile === undefined) {
    tiling.log.verbose(`model ${model.id} runs in swscale, which needs no model memory: --max-memory leaves it untiled`);
    return model;
  }
  const { log: _log, ...session } = options.session;
  return withTiling(model, {
    ...tiling,
    measure: (input, probeSide) => measureInChildProcess({ model: name, options: { ...options, session }, input, probeSide }),
  });
}

async function childMain(requestJson: string): Promise<void> {
  const request = JSON.parse(requestJson) as MemoryProbeRequest;
  const model = await loadModel(request.model, { ...request.options, session: { ...request.options.session, log: silentLogger } });
  try {
    const estimate = await measureMemoryPerPixel(model, request.input, request.probeSide);
    process.stdout.write(JSON.stringify(estimate));
  } finally {
    await model.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  childMain(process.argv[2] ?? '{}').catch((err: unknown) => {
    process.stderr.write(`${errorMessage(err)}\n`);
    process.exitCode = 1;
  });
}

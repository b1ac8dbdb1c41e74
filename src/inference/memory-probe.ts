import { readFileSync, writeFileSync } from 'node:fs';
import type { Frame, PixelLayout, VideoInfo } from '../core/frame.js';
import { patternNativePicture } from '../av/rgb-converter.js';
import { modelInput, type SrModel } from './sr-model.js';

/** Resident memory now, and a way to read the peak since the last reset. */
interface MemoryMeter {
  readonly precise: boolean;
  reset(): void;
  current(): number;
  peak(): number;
}

function statusBytes(field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Linux keeps the process's peak resident set (VmHWM) and lets the process reset it (clear_refs 5),
 * which catches the high point inside one native run. Elsewhere the resident set after the run is
 * the best available figure: ONNX Runtime's arena keeps what a run took.
 */
function memoryMeter(): MemoryMeter {
  const fallback: MemoryMeter = { precise: false, reset() {}, current: () => process.memoryUsage().rss, peak: () => process.memoryUsage().rss };
  if (statusBytes('VmHWM') === undefined) return fallback;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    return fallback;
  }
  return {
    precise: true,
    reset: () => writeFileSync('/proc/self/clear_refs', '5'),
    current: () => statusBytes('VmRSS')!,
    peak: () => statusBytes('VmHWM')!,
  };
}

function probeFrame(info: VideoInfo, index: number, layout: PixelLayout): Frame {
  if (layout === 'native') return { info, pts: index, duration: 1, index, layout, picture: patternNativePicture(info, index) };
  const { width, height } = info;
  const rgb = new Float32Array(3 * width * height);
  for (let i = 0; i < rgb.length; i++) rgb[i] = ((i * 7919 + index * 104729) % 251) / 250;
  return { info, pts: index, duration: 1, index, layout: 'rgb-float', rgb };
}

export interface MemoryEstimate {
  /** Bytes a run takes per input pixel, beyond the model's weights (activations and I/O tensors). */
  readonly bytesPerPixel: number;
  readonly probeWidth: number;
  readonly probeHeight: number;
  /** False when only the resident set after the run could be read (not Linux). */
  readonly precise: boolean;
}

/**
 * Measures how much memory one run of `model` takes per input pixel: runs it on a probe frame
 * (twice for history models, the second time with history, which is the heavier path) and reads
 * the growth of the process's peak resident memory. Do it on a fresh session: what an earlier,
 * larger run left in ONNX Runtime's arena would hide the growth. The model is left configured for
 * the probe size; configure it again before use.
 */
export async function measureMemoryPerPixel(model: SrModel, like: VideoInfo, side: number): Promise<MemoryEstimate> {
  // models on native pictures only (luma models) are probed on the pictures they take
  const layout: PixelLayout = model.layouts.includes('rgb-float') ? 'rgb-float' : 'native';
  const sized: VideoInfo = { ...like, width: Math.min(side, like.width), height: Math.min(side, like.height) };
  const info = modelInput(model, sized, layout);
  await model.configure(info, layout);
  const meter = memoryMeter();
  const first = probeFrame(info, 0, layout);
  meter.reset();
  const before = meter.current();
  const step = await model.upscale(first, undefined);
  let peak = meter.peak();
  if (model.usesHistory) {
    await model.upscale(probeFrame(info, 1, layout), step.state);
    peak = Math.max(peak, meter.peak());
  }
  const pixels = info.width * info.height;
  return { bytesPerPixel: Math.max(0, peak - before) / pixels, probeWidth: info.width, probeHeight: info.height, precise: meter.precise };
}

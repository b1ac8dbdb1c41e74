import type { Flicker } from '../metrics/evaluate.js';
import { fixedOrInf } from '../metrics/format.js';

/** One model on one sequence: scored, or why not. */
export type QualityRow =
  | {
      readonly model: string;
      readonly sequence: string;
      readonly status: 'ok';
      readonly frames: number;
      readonly psnrY: number;
      readonly ssimY: number;
      readonly psnrRgb: number;
      readonly ssimRgb: number;
      readonly flicker: Flicker | null;
      /** Whole pipeline (decode, convert, model, convert, encode) wall time per frame. */
      readonly secondsPerFrame: number;
      /** Time inside the model per frame. */
      readonly modelSecondsPerFrame: number;
    }
  | { readonly model: string; readonly sequence: string; readonly status: 'missing' | 'failed'; readonly reason: string };

export interface QualityConditions {
  readonly scale: number;
  readonly crop: number;
  readonly machine: string;
  readonly date: string;
  readonly version: string;
}

const signed = (v: number, digits: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;

/** PSNR-Y over bicubic's on the same input, where bicubic ran on it. */
function gain(r: QualityRow, rows: readonly QualityRow[]): string {
  const base = rows.find((b) => b.model === 'bicubic' && b.sequence === r.sequence);
  return r.status === 'ok' && base?.status === 'ok' && r.model !== 'bicubic' ? signed(r.psnrY - base.psnrY, 2) : '';
}

function cells(r: QualityRow, rows: readonly QualityRow[]): string[] {
  if (r.status !== 'ok') return [r.model, r.sequence, r.status, '', '', '', '', ''];
  const flicker = r.flicker ? signed(r.flicker.difference, 2) : 'n/a';
  return [r.model, r.sequence, fixedOrInf(r.psnrY, 2), gain(r, rows), fixedOrInf(r.ssimY, 4), flicker, r.secondsPerFrame.toFixed(3), r.modelSecondsPerFrame.toFixed(3)];
}

/** The README's quality table, with the conditions it was measured under. */
export function qualityMarkdown(rows: readonly QualityRow[], c: QualityConditions): string {
  const header = ['model', 'sequence', 'PSNR-Y (dB)', 'over bicubic', 'SSIM-Y', 'flicker', 's/frame', 'model s/frame'];
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${cells(r, rows).join(' | ')} |`),
  ];
  const unique = [...new Set(rows.flatMap((r) => (r.status === 'ok' ? [] : [`- ${r.model}: ${r.status}: ${r.reason}`])))];
  return [
    `x${c.scale} on Vid4 (LR made from the GT with ffmpeg's bicubic, see ../shared/data/README.md; ` +
      `"H.264 crf 23": that LR encoded with libx264 crf 23, as a camera or a feed delivers it); ` +
      `PSNR/SSIM on BT.601 Y with ${c.crop} px cropped at each edge, mean over frames (\`stream-sr eval --crop ${c.crop}\`); ` +
      `flicker = mean |frame − previous| of the output minus that of the GT, in levels (0..255; below 0: steadier than the GT). ` +
      `s/frame: whole run (decode, model, encode to FFV1) per frame; model s/frame: inside the model. ` +
      `${c.machine}, ${c.date}, stream-sr ${c.version}.`,
    '',
    ...lines,
    ...(unique.length ? ['', ...unique] : []),
    '',
  ].join('\n');
}

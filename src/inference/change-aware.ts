/**
 * Change-aware compute for fixed cameras: a history model runs only where the low-resolution frame
 * changed, on windows around the changed tiles, and the previous output is kept everywhere else.
 *
 * The frame is cut into TILE x TILE tiles. A tile has changed when one of its values differs from the
 * reference, the frame its output was last computed from, by more than the threshold (in 8-bit levels;
 * 0: any difference). Comparing with the reference rather than with the previous frame keeps slow
 * changes below the threshold from building up unseen. A changed tile stays active for SETTLE more
 * frames (one where the change was under three times the threshold), because a recurrent model
 * refines a region that has just stopped changing for a few frames before its output stands still. Active tiles grow by PASTE pixels (the receptive field of the
 * network's convolutions, so every output pixel that sees a changed input is recomputed); each cluster
 * of them is one window, run with CONTEXT more pixels of input around it, and the inner part is pasted
 * into the previous output, which (pasted) is the next frame's history. The motion estimator's own
 * field is wider: outside the windows its influence is what the threshold option's loss measures.
 */

import type { Box } from './tile-pixels.js';
import { MOTION_GRID, alignDown } from './tile-grid.js';

export interface ChangeWindow {
  /** The input the model runs on. */
  readonly compute: Box;
  /** The part of its output that is kept (inside `compute`). */
  readonly paste: Box;
}

export type ChangePlan =
  | { readonly kind: 'full' }
  | { readonly kind: 'reuse' }
  | { readonly kind: 'windows'; readonly windows: readonly ChangeWindow[] };

export interface ChangeSettings {
  /** 8-bit levels a value may differ by and still count as unchanged (0: exact). */
  readonly threshold: number;
  /** Tile side, LR pixels. */
  readonly tile: number;
  /** Frames a tile stays active after its last change. */
  readonly settle: number;
  /** Active tiles are grown by this many LR pixels into the pasted region. */
  readonly paste: number;
  /** Input context around the pasted region, LR pixels. */
  readonly context: number;
  /** Above this share of the frame in windows, the whole frame is computed. */
  readonly fullShare: number;
}

/**
 * settle 5: on a frozen picture causal-sr's output moves by up to 26, 7, 3 and then 1 level on the
 * frames that repeat it, and from the fifth repeat on stays within 1/255 of where it ends; paste 6:
 * six 3x3 convolutions lie between causal-sr's input and output (head, four body, tail), so an output
 * pixel 7 or more LR pixels from a change sees none of it through them (8 computed 53% of vtest.avi
 * for 0.015 dB, 6 computes 48% for 0.016 dB); context 8: on vtest.avi (threshold 4) 8 px cost 0.019 dB
 * PSNR-Y against full compute, 6 px 0.041 dB at threshold 6 (README, "Fixed cameras").
 */
export const CHANGE_DEFAULTS: Omit<ChangeSettings, 'threshold'> = { tile: 8, settle: 5, paste: 6, context: 8, fullShare: 0.5 };

/** What the tile grid remembers from frame to frame: frames left active per tile. */
export interface ChangeState {
  readonly settle: Uint8Array;
}

export interface ChangeTotals {
  frames: number;
  /** Frames run on the whole picture / without any model run. */
  fullFrames: number;
  reusedFrames: number;
  tiles: number;
  reusedTiles: number;
  /** LR pixels the model ran on, and the frames' LR pixels. */
  computedArea: number;
  area: number;
}

export function emptyTotals(): ChangeTotals {
  return { frames: 0, fullFrames: 0, reusedFrames: 0, tiles: 0, reusedTiles: 0, computedArea: 0, area: 0 };
}

/** The end-of-run line: how much was skipped. */
export function describeTotals(t: ChangeTotals): string {
  if (t.frames === 0) return 'change-aware: no frames';
  const pct = (a: number, b: number): string => `${b ? Math.round((100 * a) / b) : 0}%`;
  return `change-aware: ${pct(t.reusedTiles, t.tiles)} of tiles reused, model run on ${pct(t.computedArea, t.area)} of the picture; ${t.reusedFrames} of ${t.frames} frames without a model run, ${t.fullFrames} computed whole`;
}

export class ChangeTracker {
  readonly tilesX: number;
  readonly tilesY: number;
  readonly totals = emptyTotals();
  private readonly limit: number;
  private readonly bigLimit: number;

  constructor(
    readonly width: number,
    readonly height: number,
    /** Values per pixel (planes). */
    readonly channels: number,
    readonly settings: ChangeSettings,
  ) {
    if (!(settings.tile >= 1)) throw new RangeError(`change-aware tile ${settings.tile}`);
    this.tilesX = Math.ceil(width / settings.tile);
    this.tilesY = Math.ceil(height / settings.tile);
    // levels are k/255 (or k/1023) floats: half a level of slack keeps rounding out of the comparison;
    // 0 compares exactly
    this.limit = settings.threshold === 0 ? 0 : (settings.threshold + 0.5) / 255;
    this.bigLimit = settings.threshold === 0 ? 0 : (3 * settings.threshold + 0.5) / 255;
  }

  /** The state after a frame computed whole without history: every tile active for SETTLE frames, while the model refines it. */
  initialState(): ChangeState {
    return { settle: new Uint8Array(this.tilesX * this.tilesY).fill(this.settings.settle) };
  }

  /**
   * Tiles of `current` that differ from `reference` by more than the threshold (1), or by more than
   * three times the threshold (2), compared after a 3x3
   * box blur of both: a camera's sensor and codec noise moves single values by several levels from
   * frame to frame, which the blur takes down to about a third, while an edge that moves keeps most of
   * its step.
   */
  changedTiles(current: Float32Array, reference: Float32Array): Uint8Array {
    const { width, height, channels, tilesX, tilesY, limit, bigLimit } = this;
    const t = this.settings.tile;
    const plane = width * height;
    // threshold 0: any difference at all, unblurred
    const exact = this.settings.threshold === 0;
    const a = exact ? current : blur3(current, width, height, channels);
    const b = exact ? reference : blur3(reference, width, height, channels);
    const changed = new Uint8Array(tilesX * tilesY);
    for (let ty = 0; ty < tilesY; ty++) {
      const y1 = Math.min(height, (ty + 1) * t);
      for (let tx = 0; tx < tilesX; tx++) {
        const x0 = tx * t;
        const x1 = Math.min(width, x0 + t);
        let most = 0;
        for (let c = 0; c < channels && most <= bigLimit; c++) {
          for (let y = ty * t; y < y1 && most <= bigLimit; y++) {
            const row = c * plane + y * width;
            for (let i = row + x0, end = row + x1; i < end; i++) {
              const d = Math.abs(a[i]! - b[i]!);
              if (d > most) most = d;
            }
          }
        }
        if (most > limit) changed[ty * tilesX + tx] = most > bigLimit ? 2 : 1;
      }
    }
    return changed;
  }

  /**
   * The plan for `current` given the reference its output was computed from and the tiles' state
   * (undefined: a first frame or after a break, computed whole). Returns the next state too, and
   * counts the frame in `totals`.
   */
  plan(current: Float32Array, reference: Float32Array | undefined, state: ChangeState | undefined): { plan: ChangePlan; state: ChangeState } {
    const n = this.tilesX * this.tilesY;
    const area = this.width * this.height;
    this.totals.frames++;
    this.totals.tiles += n;
    this.totals.area += area;
    if (!reference || !state || state.settle.length !== n) {
      this.totals.fullFrames++;
      this.totals.computedArea += area;
      return { plan: { kind: 'full' }, state: this.initialState() };
    }
    const changed = this.changedTiles(current, reference);
    const settle = new Uint8Array(n);
    const active = new Uint8Array(n);
    let activeCount = 0;
    for (let i = 0; i < n; i++) {
      // a change barely above the threshold leaves a refinement below it: one frame
      if (changed[i] === 2) settle[i] = this.settings.settle;
      else if (changed[i]) settle[i] = Math.max(1, state.settle[i]! - 1);
      else if (state.settle[i]! > 0) settle[i] = state.settle[i]! - 1;
      if (changed[i] || state.settle[i]! > 0) {
        active[i] = 1;
        activeCount++;
      }
    }
    if (activeCount === 0) {
      this.totals.reusedFrames++;
      this.totals.reusedTiles += n;
      return { plan: { kind: 'reuse' }, state: { settle } };
    }
    const windows = this.windows(active);
    const computed = windows.reduce((s, w) => s + w.compute.w * w.compute.h, 0);
    if (computed > this.settings.fullShare * area) {
      this.totals.fullFrames++;
      this.totals.computedArea += area;
      return { plan: { kind: 'full' }, state: { settle } };
    }
    this.totals.computedArea += computed;
    this.totals.reusedTiles += n - activeCount;
    return { plan: { kind: 'windows', windows }, state: { settle } };
  }

  /** Clusters of active tiles as windows: grown by `paste`, with `context` around, merged where one window costs less than two. */
  windows(active: Uint8Array): ChangeWindow[] {
    const { tilesX, tilesY, width, height } = this;
    const { tile, paste, context } = this.settings;
    // bounding boxes (in tiles) of 8-connected clusters
    const seen = new Uint8Array(active.length);
    const boxes: Box[] = [];
    const stack: number[] = [];
    for (let start = 0; start < active.length; start++) {
      if (!active[start] || seen[start]) continue;
      let x0 = tilesX;
      let y0 = tilesY;
      let x1 = -1;
      let y1 = -1;
      stack.push(start);
      seen[start] = 1;
      while (stack.length) {
        const i = stack.pop()!;
        const tx = i % tilesX;
        const ty = (i - tx) / tilesX;
        x0 = Math.min(x0, tx);
        y0 = Math.min(y0, ty);
        x1 = Math.max(x1, tx);
        y1 = Math.max(y1, ty);
        for (let y = Math.max(0, ty - 1); y <= Math.min(tilesY - 1, ty + 1); y++) {
          for (let x = Math.max(0, tx - 1); x <= Math.min(tilesX - 1, tx + 1); x++) {
            const j = y * tilesX + x;
            if (active[j] && !seen[j]) {
              seen[j] = 1;
              stack.push(j);
            }
          }
        }
      }
      const px0 = Math.max(0, x0 * tile - paste);
      const py0 = Math.max(0, y0 * tile - paste);
      boxes.push({ x: px0, y: py0, w: Math.min(width, (x1 + 1) * tile + paste) - px0, h: Math.min(height, (y1 + 1) * tile + paste) - py0 });
    }
    let windows = boxes.map((b) => this.window(b));
    // one window instead of two where it costs no more
    const cost = (w: ChangeWindow): number => w.compute.w * w.compute.h;
    for (let merged = true; merged; ) {
      merged = false;
      outer: for (let i = 0; i < windows.length; i++) {
        for (let j = i + 1; j < windows.length; j++) {
          const a = windows[i]!.paste;
          const b = windows[j]!.paste;
          const x = Math.min(a.x, b.x);
          const y = Math.min(a.y, b.y);
          const u = this.window({ x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y });
          if (cost(u) <= cost(windows[i]!) + cost(windows[j]!)) {
            windows = [...windows.slice(0, i), u, ...windows.slice(i + 1, j), ...windows.slice(j + 1)];
            merged = true;
            break outer;
          }
        }
      }
    }
    return windows;
  }

  /** The window that computes `paste`: `context` more input on each side, its origin on the motion estimator's grid (MOTION_GRID). */
  private window(paste: Box): ChangeWindow {
    const { context } = this.settings;
    const cx0 = alignDown(Math.max(0, paste.x - context), MOTION_GRID);
    const cy0 = alignDown(Math.max(0, paste.y - context), MOTION_GRID);
    const cx1 = Math.min(this.width, paste.x + paste.w + context);
    const cy1 = Math.min(this.height, paste.y + paste.h + context);
    return { paste, compute: { x: cx0, y: cy0, w: cx1 - cx0, h: cy1 - cy0 } };
  }
}

/** A 3x3 box blur of each plane, edges replicated (two passes of three). */
export function blur3(src: Float32Array, width: number, height: number, channels: number): Float32Array {
  const plane = width * height;
  const rows = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  const last = width - 1;
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      const r = c * plane + y * width;
      for (let x = 0; x < width; x++) rows[r + x] = src[r + Math.max(0, x - 1)]! + src[r + x]! + src[r + Math.min(last, x + 1)]!;
    }
    for (let y = 0; y < height; y++) {
      const up = c * plane + Math.max(0, y - 1) * width;
      const mid = c * plane + y * width;
      const down = c * plane + Math.min(height - 1, y + 1) * width;
      for (let x = 0; x < width; x++) out[mid + x] = (rows[up + x]! + rows[mid + x]! + rows[down + x]!) / 9;
    }
  }
  return out;
}

/**
 * Writes the `paste` part of a window's planar output (`compute` scaled by `scale`) into the planar
 * full-frame `dst` (`width` x `height` LR, so `width*scale` wide).
 */
export function pastePlanes<T extends Float32Array | Uint8Array>(dst: T, width: number, height: number, channels: number, win: ChangeWindow, src: T, scale = 1): void {
  const W = width * scale;
  const plane = W * height * scale;
  const cw = win.compute.w * scale;
  const ch = win.compute.h * scale;
  const ox = (win.paste.x - win.compute.x) * scale;
  const oy = (win.paste.y - win.compute.y) * scale;
  const w = win.paste.w * scale;
  const h = win.paste.h * scale;
  for (let c = 0; c < channels; c++) {
    for (let r = 0; r < h; r++) {
      const from = c * cw * ch + (oy + r) * cw + ox;
      dst.set(src.subarray(from, from + w) as never, c * plane + (win.paste.y * scale + r) * W + win.paste.x * scale);
    }
  }
}

/** The reference after a windowed frame: `current` inside the pasted boxes, the old reference elsewhere. */
export function updateReference(reference: Float32Array, current: Float32Array, width: number, height: number, channels: number, windows: readonly ChangeWindow[]): Float32Array {
  const next = reference.slice();
  const plane = width * height;
  for (const { paste: b } of windows) {
    for (let c = 0; c < channels; c++) {
      for (let r = 0; r < b.h; r++) {
        const start = c * plane + (b.y + r) * width + b.x;
        next.set(current.subarray(start, start + b.w), start);
      }
    }
  }
  return next;
}

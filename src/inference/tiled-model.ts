import type { Frame, PixelLayout, VideoInfo } from '../core/frame.js';
import { rgbOf, rgbPixels, scaledInfo } from '../core/frame.js';
import { DEFAULTS } from '../core/defaults.js';
import { UsageError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { measureMemoryPerPixel, type MemoryEstimate } from './memory-probe.js';
import type { ModelState, ModelStep, SrModel } from './sr-model.js';
import { tileGrid, type Tile } from './tile-grid.js';
import { TileBlender, cropPlanes } from './tile-pixels.js';

export interface TilingOptions {
  /** Tile side in input pixels (--tile); wins over maxMemoryBytes. */
  readonly tile?: number;
  /** Overlap between neighbouring tiles in input pixels (--tile-overlap). */
  readonly overlap?: number;
  /** Memory one model run may take beyond the weights (--max-memory); picks the tile size when --tile is absent. */
  readonly maxMemoryBytes?: number;
  /** Side of the frame the memory probe runs on. */
  readonly probeSide?: number;
  /**
   * Measures the model's memory per input pixel. By default the probe runs in this process, which
   * is exact only while nothing else has grown and freed memory here (malloc reuses freed memory
   * without growing the resident set); the CLI measures in a fresh child process instead.
   */
  readonly measure?: (input: VideoInfo, probeSide: number) => Promise<MemoryEstimate>;
  readonly log: Logger;
}

/** What a user sets about tiling (command line or pipeline file); the rest is the run's. */
export type TilingSettings = Pick<TilingOptions, 'tile' | 'overlap' | 'maxMemoryBytes'>;

/** Peaks measured at 256x256 and 400x400 came out 1-5% above what a 128x128 probe predicts. */
const PROBE_HEADROOM = 1.1;
/** Tiles picked for a --max-memory budget are whole multiples of this many pixels (smaller, never larger, than what fits). */
const TILE_STEP = 16;

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** The state of a tiled run: one inner state per tile, for the grid it was made on. */
interface TileStates {
  readonly grid: readonly Tile[];
  readonly states: readonly (ModelState | undefined)[];
}

/**
 * Runs any SrModel on float RGB on overlapping tiles and blends the overlaps with feathered
 * weights, so that frames larger than the memory allows, or than a fixed-shape engine takes, can be
 * upscaled. A history model keeps one state per tile (what it returned for that tile last frame),
 * so each tile sees the history of its own region and never another tile's. Frames no larger than
 * one tile go to the model untouched. A model that tiles its own planes (`tilePlanes`: a luma
 * model on native pictures) is told the tile size instead, chosen the same way.
 */
export class TiledModel implements SrModel {
  readonly id: string;
  readonly scale: number;
  readonly usesHistory: boolean;
  readonly detail?: string;
  /** Tiles are cut from float RGB, or by the model itself from its own planes. */
  readonly layouts: readonly PixelLayout[];
  /** The model tiles its own planes; this only picks the tile size. */
  private readonly planes: boolean;
  /** The tile size in use for the configured frame size; undefined: whole frames. */
  private tile: number | undefined;
  private readonly overlap: number;
  /** Bytes per input pixel to plan with: the probe's figure plus headroom (or the floor), and the probe's own figure. */
  private perPixel?: number;
  private probedPerPixel?: number;
  private grid?: { width: number; height: number; tile: number; tiles: Tile[] };

  constructor(
    private readonly inner: SrModel,
    private readonly opts: TilingOptions,
  ) {
    this.id = inner.id;
    this.scale = inner.scale;
    this.usesHistory = inner.usesHistory;
    if (inner.detail) this.detail = inner.detail;
    this.tile = opts.tile;
    this.overlap = opts.overlap ?? DEFAULTS.tileOverlap;
    checkTilingOptions(opts);
    this.planes = !inner.layouts.includes('rgb-float') && inner.tilePlanes !== undefined;
    if (!inner.layouts.includes('rgb-float') && !this.planes) throw new UsageError(`model ${inner.id} works on neither float RGB nor planes it tiles itself, so it cannot be tiled`);
    this.layouts = this.planes ? inner.layouts : ['rgb-float'];
  }

  nativeInput(input: VideoInfo): VideoInfo {
    return this.planes && this.inner.nativeInput ? this.inner.nativeInput(input) : input;
  }

  report(): string | undefined {
    return this.inner.report?.();
  }

  async configure(input: VideoInfo, layout?: PixelLayout): Promise<VideoInfo> {
    let need: number | undefined;
    if (this.opts.tile === undefined && this.opts.maxMemoryBytes !== undefined) ({ tile: this.tile, need } = await this.tileForBudget(input, this.opts.maxMemoryBytes));
    const tile = this.tile;
    // the tiles as they are cut (a luma model's start at multiples of its motion grid), so the info line and -v agree
    const budgetNote = (sizes: string) => {
      if (need !== undefined) this.opts.log.info(`a ${input.width}x${input.height} frame needs about ${formatBytes(need)} in model ${this.id}, over --max-memory ${formatBytes(this.opts.maxMemoryBytes!)}: upscaling in tiles of ${sizes}`);
    };
    if (tile !== undefined && input.width <= tile && input.height <= tile) this.opts.log.verbose(`${input.width}x${input.height} frames fit in one tile of ${tile}: not tiled`);
    if (this.planes) {
      if (tile !== undefined && (input.width > tile || input.height > tile)) {
        const align = this.inner.tilePlanes!(tile, this.overlap);
        const tiles = tileGrid(input.width, input.height, tile, this.overlap, this.scale, align);
        const sizes = [...new Set(tiles.map((t) => `${t.width}x${t.height}`))].join(', ');
        budgetNote(sizes);
        this.opts.log.verbose(`tiling ${input.width}x${input.height} into ${tiles.length} tiles of ${sizes} (overlap ${this.overlap}${align > 1 ? `, starting at multiples of ${align}` : ''}), in model ${this.id}`);
      }
      return this.inner.configure(input, layout);
    }
    if (tile === undefined || (input.width <= tile && input.height <= tile)) return this.inner.configure(input, 'rgb-float');
    const tileInfo = { ...input, width: Math.min(tile, input.width), height: Math.min(tile, input.height) };
    let tileOut: VideoInfo;
    try {
      tileOut = await this.inner.configure(tileInfo, 'rgb-float');
    } catch (err) {
      throw new UsageError(`tiles of ${tileInfo.width}x${tileInfo.height}: ${errorMessage(err)}`, { cause: err });
    }
    if (tileOut.width !== tileInfo.width * this.scale || tileOut.height !== tileInfo.height * this.scale) {
      throw new UsageError(`model ${this.id} turns a ${tileInfo.width}x${tileInfo.height} tile into ${tileOut.width}x${tileOut.height}, not x${this.scale}: it cannot be tiled`);
    }
    const count = this.gridFor(input.width, input.height).length;
    budgetNote(`${tileInfo.width}x${tileInfo.height}`);
    this.opts.log.verbose(`tiling ${input.width}x${input.height} into ${count} tiles of ${tileInfo.width}x${tileInfo.height} (overlap ${this.overlap})`);
    return scaledInfo(input, this.scale);
  }

  /** The largest tile whose run fits the budget (undefined when the whole frame fits), and what the whole frame would need. */
  private async tileForBudget(input: VideoInfo, budget: number): Promise<{ tile?: number; need?: number }> {
    const perPixel = this.perPixel ?? (this.perPixel = await this.measure(input));
    const need = perPixel * input.width * input.height;
    if (need <= budget) return {};
    const fits = Math.floor(Math.sqrt(budget / perPixel));
    if (input.width <= 2 * this.overlap && input.height <= 2 * this.overlap) {
      // no tile is smaller than the frame: per pixel figures of tiles do not apply (the probe ran on the frame itself)
      throw new UsageError(`--max-memory ${formatBytes(budget)} is too small for model ${this.id}: a whole ${input.width}x${input.height} frame needs about ${formatBytes(need)}, and a frame this small is not cut into tiles`);
    }
    if (fits < 2 * this.overlap) {
      throw new UsageError(
        `--max-memory ${formatBytes(budget)} is too small for model ${this.id}: it takes about ${this.probedPerPixel!.toFixed(0)} bytes per input pixel (planned as ${perPixel.toFixed(0)}, with headroom), so even a ${2 * this.overlap}x${2 * this.overlap} tile needs ${formatBytes(perPixel * 4 * this.overlap ** 2)}`,
      );
    }
    // the probe's figure moves by a few percent from run to run; whole multiples of TILE_STEP keep
    // that from changing the tiles (and so the output's bytes) most of the time
    const tile = Math.max(2 * this.overlap, Math.floor(fits / TILE_STEP) * TILE_STEP);
    return { tile, need };
  }

  /** Measured once, on the fresh session: later runs leave memory in the arena that hides growth. */
  private async measure(input: VideoInfo): Promise<number> {
    const side = this.opts.probeSide ?? DEFAULTS.memoryProbeSide;
    const probe = await (this.opts.measure ? this.opts.measure(input, side) : measureMemoryPerPixel(this.inner, input, side));
    const how = probe.precise ? 'peak resident memory' : 'resident memory after the run';
    this.probedPerPixel = probe.bytesPerPixel;
    this.opts.log.verbose(`model ${this.id}: about ${probe.bytesPerPixel.toFixed(0)} bytes per input pixel (${how} on a ${probe.probeWidth}x${probe.probeHeight} probe)`);
    // a run holds at least its float input and output, each as a tensor and as a frame
    const floor = 2 * 12 * (1 + this.scale * this.scale);
    if (probe.bytesPerPixel < floor) this.opts.log.verbose(`model ${this.id}: the probe saw less than the ${floor} bytes per pixel its input and output take; using that`);
    return Math.max(probe.bytesPerPixel * PROBE_HEADROOM, floor);
  }

  private gridFor(width: number, height: number): Tile[] {
    const tile = this.tile!;
    const g = this.grid;
    if (!g || g.width !== width || g.height !== height || g.tile !== tile) {
      this.grid = { width, height, tile, tiles: tileGrid(width, height, tile, this.overlap, this.scale) };
    }
    return this.grid!.tiles;
  }

  async upscale(frame: Frame, state: ModelState | undefined): Promise<ModelStep> {
    if (this.planes) return this.inner.upscale(frame, state);
    const { width, height } = frame.info;
    const tile = this.tile;
    if (tile === undefined || (width <= tile && height <= tile)) return this.inner.upscale(frame, state);
    const grid = this.gridFor(width, height);
    const previous = state as TileStates | undefined;
    const states = previous?.grid === grid ? previous.states : [];
    const next: (ModelState | undefined)[] = [];
    const blender = new TileBlender(width * this.scale, height * this.scale);
    const rgb = rgbOf(frame);
    for (const [i, t] of grid.entries()) {
      const crop = { ...frame, info: { ...frame.info, width: t.width, height: t.height }, rgb: cropPlanes(rgb, width, height, 3, { x: t.x, y: t.y, w: t.width, h: t.height }) };
      const step = await this.inner.upscale(crop, states[i]);
      next.push(step.state);
      blender.add(rgbOf({ ...crop, ...step.pixels }), t.x * this.scale, t.y * this.scale, t.weightX, t.weightY);
    }
    return { pixels: rgbPixels(blender.result()), ...(this.usesHistory ? { state: { grid, states: next } satisfies TileStates } : {}) };
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

/** Throws a UsageError naming the option when tile, overlap or budget can't work. */
export function checkTilingOptions(opts: Pick<TilingOptions, 'tile' | 'overlap' | 'maxMemoryBytes'>): void {
  const overlap = opts.overlap ?? DEFAULTS.tileOverlap;
  if (!Number.isInteger(overlap) || overlap < 0) throw new UsageError(`--tile-overlap ${Number.isNaN(overlap) ? '(not a number)' : overlap}: must be a whole number of pixels, 0 or more`);
  const tile = opts.tile;
  if (tile === undefined) return;
  if (!Number.isInteger(tile) || tile < 1) throw new UsageError(`--tile ${Number.isNaN(tile) ? '(not a number)' : tile}: must be a whole number of pixels, 1 or more`);
  if (tile < 2 * overlap) throw new UsageError(`--tile ${tile}: must be at least twice the tile overlap (${overlap}); lower --tile-overlap or raise --tile`);
}

/** Wraps `model` for tiling when a tile size or a memory budget is asked for; otherwise returns it as is. */
export function withTiling(model: SrModel, opts: TilingOptions): SrModel {
  if (opts.tile === undefined && opts.maxMemoryBytes === undefined) return model;
  return new TiledModel(model, opts);
}

import { readFileSync } from 'node:fs';
import type { Planar } from './compare.js';

/**
 * A plain evaluation of ncnn layers (as ncnn's own C++ layers compute them), reading the .param
 * and .bin directly: the independent reference the converted ONNX graphs are checked against.
 */

function half(h: number): number {
  const e = (h >> 10) & 31;
  const m = h & 1023;
  const v = e === 0 ? m / 1024 / 16384 : e === 31 ? (m ? NaN : Infinity) : Math.pow(2, e - 15) * (1 + m / 1024);
  return h & 0x8000 ? -v : v;
}

class Bin {
  private o = 0;
  constructor(private readonly b: Buffer) {}
  raw(n: number): Float64Array {
    const out = Float64Array.from({ length: n }, (_, i) => this.b.readFloatLE(this.o + 4 * i));
    this.o += 4 * n;
    return out;
  }
  tagged(n: number): Float64Array {
    const tag = this.b.readUInt32LE(this.o);
    this.o += 4;
    if (tag === 0x01306b47) {
      const out = Float64Array.from({ length: n }, (_, i) => half(this.b.readUInt16LE(this.o + 2 * i)));
      this.o += Math.ceil((2 * n) / 4) * 4;
      return out;
    }
    if (tag !== 0) throw new Error(`reference: tag ${tag.toString(16)}`);
    return this.raw(n);
  }
}

function conv(x: Planar, p: Map<number, number>, w: Float64Array, bias: Float64Array | undefined): Planar {
  const cout = p.get(0)!;
  const k = p.get(1)!;
  const pad = p.get(4) ?? 0;
  const cin = x.c;
  const oh = x.h + 2 * pad - k + 1;
  const ow = x.w + 2 * pad - k + 1;
  const out = new Float64Array(cout * oh * ow);
  for (let o = 0; o < cout; o++) {
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++) {
        let s = bias ? bias[o]! : 0;
        for (let c = 0; c < cin; c++) {
          for (let i = 0; i < k; i++) {
            const sy = y + i - pad;
            if (sy < 0 || sy >= x.h) continue;
            for (let j = 0; j < k; j++) {
              const sx = xx + j - pad;
              if (sx >= 0 && sx < x.w) s += x.data[(c * x.h + sy) * x.w + sx]! * w[((o * cin + c) * k + i) * k + j]!;
            }
          }
        }
        const act = p.get(9) ?? 0;
        out[(o * oh + y) * ow + xx] = act === 1 ? Math.max(0, s) : act === 2 && s < 0 ? s * 0.1 : s;
      }
    }
  }
  return { c: cout, h: oh, w: ow, data: out };
}

function prelu(x: Planar, slope: Float64Array): Planar {
  const plane = x.h * x.w;
  return { ...x, data: x.data.map((v, i) => (v < 0 ? v * slope[slope.length === 1 ? 0 : Math.floor(i / plane)]! : v)) };
}

function pixelShuffle(x: Planar, r: number, mode: number): Planar {
  const c = x.c / (r * r);
  const h = x.h * r;
  const w = x.w * r;
  const out = new Float64Array(x.data.length);
  for (let q = 0; q < c; q++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        const sub = (y % r) * r + (xx % r);
        const src = mode === 0 ? q * r * r + sub : sub * c + q;
        out[(q * h + y) * w + xx] = x.data[(src * x.h + Math.floor(y / r)) * x.w + Math.floor(xx / r)]!;
      }
    }
  }
  return { c, h, w, data: out };
}

function nearest(x: Planar, hs: number, ws: number): Planar {
  const h = Math.floor(x.h * hs);
  const w = Math.floor(x.w * ws);
  const out = new Float64Array(x.c * h * w);
  for (let q = 0; q < x.c; q++) {
    for (let y = 0; y < h; y++) {
      const sy = Math.min(Math.trunc(y / hs), x.h - 1);
      for (let xx = 0; xx < w; xx++) out[(q * h + y) * w + xx] = x.data[(q * x.h + sy) * x.w + Math.min(Math.trunc(xx / ws), x.w - 1)]!;
    }
  }
  return { c: x.c, h, w, data: out };
}

/** ncnn's bicubic (interp.cpp): Keys A = -0.75, half-pixel centres, edge taps folded onto the border. */
function cubicTaps(dst: number, src: number): Array<{ index: number[]; weight: number[] }> {
  const scale = src / dst;
  const A = -0.75;
  const taps = [];
  for (let d = 0; d < dst; d++) {
    const f = (d + 0.5) * scale - 0.5;
    const s = Math.floor(f);
    const t = f - s;
    const w0 = A * (t + 1) ** 3 - 5 * A * (t + 1) ** 2 + 8 * A * (t + 1) - 4 * A;
    const w1 = (A + 2) * t ** 3 - (A + 3) * t ** 2 + 1;
    const w2 = (A + 2) * (1 - t) ** 3 - (A + 3) * (1 - t) ** 2 + 1;
    let a = [w0, w1, w2, 1 - w0 - w1 - w2];
    let sx = s;
    // ncnn moves taps that fall outside the image onto the border pixels (interp.cpp)
    if (sx <= -1) [sx, a] = [1, [a[0]! + a[1]! + a[2]!, a[3]!, 0, 0]];
    if (sx === 0) [sx, a] = [1, [a[0]! + a[1]!, a[2]!, a[3]!, 0]];
    if (sx === src - 2) [sx, a] = [src - 3, [0, a[0]!, a[1]!, a[2]! + a[3]!]];
    if (sx >= src - 1) [sx, a] = [src - 3, [0, 0, a[0]!, 1 - a[0]!]];
    const weight = a;
    const index = [sx - 1, sx, sx + 1, sx + 2];
    taps.push({ index, weight });
  }
  return taps;
}

function bicubic(x: Planar, hs: number, ws: number): Planar {
  const h = Math.floor(x.h * hs);
  const w = Math.floor(x.w * ws);
  const ty = cubicTaps(h, x.h);
  const tx = cubicTaps(w, x.w);
  const out = new Float64Array(x.c * h * w);
  for (let q = 0; q < x.c; q++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        let s = 0;
        for (let i = 0; i < 4; i++) {
          for (let j = 0; j < 4; j++) s += ty[y]!.weight[i]! * tx[xx]!.weight[j]! * x.data[(q * x.h + ty[y]!.index[i]!) * x.w + tx[xx]!.index[j]!]!;
        }
        out[(q * h + y) * w + xx] = s;
      }
    }
  }
  return { c: x.c, h, w, data: out };
}

function binary(a: Planar, b: Planar | number, op: number): Planar {
  const f = [(x: number, y: number) => x + y, (x: number, y: number) => x - y, (x: number, y: number) => x * y, (x: number, y: number) => x / y][op]!;
  return { ...a, data: a.data.map((v, i) => f(v, typeof b === 'number' ? b : b.data[i]!)) };
}

/** Runs the ncnn model (text .param + .bin) on a planar image. */
export function ncnnReference(paramPath: string, binPath: string, input: Planar): Planar {
  const lines = readFileSync(paramPath, 'utf8').trim().split('\n').slice(2);
  const bin = new Bin(readFileSync(binPath));
  const blobs = new Map<string, Planar>();
  let last = input;
  for (const line of lines) {
    const parts = line.trim().split(/\s+/);
    const [type, , nb, nt] = parts;
    const bottoms = parts.slice(4, 4 + Number(nb)).map((b) => blobs.get(b)!);
    const tops = parts.slice(4 + Number(nb), 4 + Number(nb) + Number(nt));
    const p = new Map(parts.slice(4 + Number(nb) + Number(nt)).map((kv) => kv.split('=').map(Number) as [number, number]));
    let y: Planar;
    if (type === 'Input' || type === 'Split') y = type === 'Input' ? input : bottoms[0]!;
    else if (type === 'Convolution') {
      const wgt = bin.tagged(p.get(6)!);
      y = conv(bottoms[0]!, p, wgt, p.get(5) ? bin.raw(p.get(0)!) : undefined);
    } else if (type === 'PReLU') y = prelu(bottoms[0]!, bin.raw(p.get(0)!));
    else if (type === 'PixelShuffle') y = pixelShuffle(bottoms[0]!, p.get(0)!, p.get(1) ?? 0);
    else if (type === 'Interp') y = (p.get(0) === 1 ? nearest : bicubic)(bottoms[0]!, p.get(1)!, p.get(2)!);
    else if (type === 'BinaryOp') y = binary(bottoms[0]!, p.get(1) ? p.get(2)! : bottoms[1]!, p.get(0) ?? 0);
    else throw new Error(`reference: layer ${type}`);
    for (const top of tops) blobs.set(top, y);
    last = y;
  }
  return last;
}

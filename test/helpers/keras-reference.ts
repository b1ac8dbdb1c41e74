import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * A plain, slow, channels-last evaluation of Keras layers straight from model.json and its shards,
 * written from the Keras layer definitions and independent of the ONNX converter: the reference
 * the converted graphs are checked against.
 */
export interface Nhwc {
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly data: Float64Array;
}

type Json = Record<string, any>;

function loadWeights(path: string, json: Json): Map<string, { shape: number[]; data: Float64Array }> {
  const out = new Map<string, { shape: number[]; data: Float64Array }>();
  for (const group of json.weightsManifest as Json[]) {
    const bytes = Buffer.concat((group.paths as string[]).map((p) => readFileSync(join(dirname(path), p))));
    let offset = 0;
    for (const w of group.weights as Json[]) {
      const n = (w.shape as number[]).reduce((a, b) => a * b, 1);
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = bytes.readFloatLE(offset + 4 * i);
      out.set(w.name, { shape: w.shape, data });
      offset += 4 * n;
    }
  }
  return out;
}

function inboundOf(layer: Json): string[] {
  const nodes = layer.inbound_nodes as unknown[] | undefined;
  if (!nodes?.length) return [];
  const node = nodes[0] as any;
  if (Array.isArray(node)) return node.map((r: any[]) => r[0]);
  const names: string[] = [];
  JSON.stringify(node.args, (k, v) => {
    if (k === 'keras_history') names.push(v[0]);
    return v;
  });
  return names;
}

function conv2d(x: Nhwc, kernel: Float64Array, kshape: number[], bias: Float64Array | undefined, cfg: Json): Nhwc {
  const [kh, kw, cin, cout] = kshape as [number, number, number, number];
  const [dh, dw] = cfg.dilation_rate ?? [1, 1];
  const same = cfg.padding === 'same';
  const padTop = same ? Math.floor(((kh - 1) * dh) / 2) : 0;
  const padLeft = same ? Math.floor(((kw - 1) * dw) / 2) : 0;
  const oh = same ? x.h : x.h - (kh - 1) * dh;
  const ow = same ? x.w : x.w - (kw - 1) * dw;
  const out = new Float64Array(oh * ow * cout);
  for (let y = 0; y < oh; y++) {
    for (let xx = 0; xx < ow; xx++) {
      for (let o = 0; o < cout; o++) {
        let s = bias ? bias[o]! : 0;
        for (let i = 0; i < kh; i++) {
          const sy = y + i * dh - padTop;
          if (sy < 0 || sy >= x.h) continue;
          for (let j = 0; j < kw; j++) {
            const sx = xx + j * dw - padLeft;
            if (sx < 0 || sx >= x.w) continue;
            for (let c = 0; c < cin; c++) s += x.data[(sy * x.w + sx) * cin + c]! * kernel[((i * kw + j) * cin + c) * cout + o]!;
          }
        }
        out[(y * ow + xx) * cout + o] = s;
      }
    }
  }
  return { h: oh, w: ow, c: cout, data: out };
}

function act(x: Nhwc, kind: string): Nhwc {
  const f: Record<string, (v: number) => number> = { linear: (v) => v, relu: (v) => Math.max(0, v), sigmoid: (v) => 1 / (1 + Math.exp(-v)), tanh: Math.tanh };
  const fn = f[kind];
  if (!fn) throw new Error(`reference: activation ${kind}`);
  return { ...x, data: x.data.map(fn) };
}

function concat(xs: Nhwc[]): Nhwc {
  const c = xs.reduce((n, x) => n + x.c, 0);
  const { h, w } = xs[0]!;
  const out = new Float64Array(h * w * c);
  for (let p = 0; p < h * w; p++) {
    let o = p * c;
    for (const x of xs) for (let k = 0; k < x.c; k++) out[o++] = x.data[p * x.c + k]!;
  }
  return { h, w, c, data: out };
}

function upsample(x: Nhwc, sh: number, sw: number): Nhwc {
  const h = x.h * sh;
  const w = x.w * sw;
  const out = new Float64Array(h * w * x.c);
  for (let y = 0; y < h; y++) {
    for (let xx = 0; xx < w; xx++) {
      for (let k = 0; k < x.c; k++) out[(y * w + xx) * x.c + k] = x.data[(Math.floor(y / sh) * x.w + Math.floor(xx / sw)) * x.c + k]!;
    }
  }
  return { h, w, c: x.c, data: out };
}

/** Runs the model at `path` on one NHWC image. */
export function kerasReference(path: string, input: Nhwc): Nhwc {
  const json = JSON.parse(readFileSync(path, 'utf8')) as Json;
  const weights = loadWeights(path, json);
  const topo = json.modelTopology.model_config ?? json.modelTopology;
  const sequential = topo.class_name === 'Sequential';
  const layers: Json[] = sequential ? (Array.isArray(topo.config) ? topo.config : topo.config.layers) : topo.config.layers;
  const values = new Map<string, Nhwc>();
  let previous: Nhwc = input;
  for (const layer of layers) {
    const name: string = layer.config.name ?? layer.name;
    const ins = sequential ? [previous] : inboundOf(layer).map((n) => values.get(n)!);
    const cfg = layer.config;
    let y: Nhwc;
    switch (layer.class_name) {
      case 'InputLayer':
        y = input;
        break;
      case 'Conv2D': {
        const k = weights.get(`${name}/kernel`)!;
        y = act(conv2d(ins[0]!, k.data, k.shape, cfg.use_bias === false ? undefined : weights.get(`${name}/bias`)!.data, cfg), cfg.activation ?? 'linear');
        break;
      }
      case 'Activation':
        y = act(ins[0]!, cfg.activation);
        break;
      case 'ReLU':
        y = act(ins[0]!, 'relu');
        break;
      case 'Concatenate':
        y = concat(ins);
        break;
      case 'Add':
        y = { ...ins[0]!, data: ins[0]!.data.map((v, i) => ins.reduce((s, x) => s + x.data[i]!, 0)) };
        break;
      case 'UpSampling2D':
        y = upsample(ins[0]!, cfg.size[0], cfg.size[1]);
        break;
      default:
        throw new Error(`reference: layer ${layer.class_name}`);
    }
    values.set(name, y);
    previous = y;
  }
  if (sequential) return previous;
  const outName = (topo.config.output_layers as any[])[0][0] as string;
  return values.get(outName)!;
}

/**
 * The trained models stream-sr knows how to obtain: where each comes from, under which licence, and
 * how to turn it into a model folder. A known model that is not installed yet is listed by
 * `stream-sr models` with the command that installs it.
 */

/** A TensorFlow.js layers-model shipped in an npm package (installed with stream-sr). */
export interface NpmSource {
  readonly kind: 'npm';
  readonly package: string;
  readonly version: string;
  /** model.json per scale, relative to the package folder. */
  readonly variants: ReadonlyArray<{ readonly scale: number; readonly modelJson: string }>;
  /** The Keras model works on 0..nativeMax; the converted graph is scaled to take and give 0..1. */
  readonly nativeMax: number;
}

export interface PublishedFile {
  readonly name: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** One scale of a downloadable model: its ncnn param and weight files. */
export interface DownloadVariant {
  readonly scale: number;
  readonly param: PublishedFile;
  readonly bin: PublishedFile;
}

/** ncnn files published on the web, fetched by `stream-sr models pull`. */
export interface DownloadSource {
  readonly kind: 'download';
  /** Folder URL the file names are appended to (overridable: --base-url, STREAM_SR_MODEL_BASE_URL). */
  readonly baseUrl: string;
  readonly variants: readonly DownloadVariant[];
}

export interface CatalogEntry {
  readonly id: string;
  readonly description: string;
  readonly license: string;
  readonly origin: string;
  /** Pixel values the converted graph takes and gives. */
  readonly range: readonly [number, number];
  readonly source: NpmSource | DownloadSource;
}

/** Real-ESRGAN's ncnn files as redistributed in upscayl/custom-models (folder models/, commit 4b6d2cf). */
export const REALESRGAN_BASE_URL = 'https://raw.githubusercontent.com/upscayl/custom-models/4b6d2cf/models';

const ANIME_BIN: Omit<PublishedFile, 'name'> = { sha256: '548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d', bytes: 1247368 };

/** Real-ESRGAN's compact models, downloaded as ncnn files and converted at pull time. */
function realEsrgan(id: string, description: string, variants: readonly DownloadVariant[]): CatalogEntry {
  return {
    id,
    description,
    license: 'BSD-3-Clause (Real-ESRGAN, Xintao Wang et al.)',
    origin: `Real-ESRGAN (https://github.com/xinntao/Real-ESRGAN), ncnn files from ${REALESRGAN_BASE_URL}, converted to ONNX by stream-sr`,
    range: [0, 1],
    source: { kind: 'download', baseUrl: REALESRGAN_BASE_URL, variants },
  };
}

/** UpscalerJS's ESRGAN packages: x2 and x4 Keras models on 0..255, MIT. */
function upscalerJs(id: string, description: string): CatalogEntry {
  const pkg = `@upscalerjs/${id}`;
  return {
    id,
    description,
    license: 'MIT (Copyright (c) 2022 Kevin Scott)',
    origin: `npm ${pkg} 1.0.0 (https://github.com/thekevinscott/upscaler), converted to ONNX by stream-sr`,
    range: [0, 1],
    source: {
      kind: 'npm',
      package: pkg,
      version: '1.0.0',
      nativeMax: 255,
      variants: [
        { scale: 2, modelJson: 'models/x2/model.json' },
        { scale: 4, modelJson: 'models/x4/model.json' },
      ],
    },
  };
}

export const CATALOG: readonly CatalogEntry[] = [
  upscalerJs('esrgan-slim', 'UpscalerJS ESRGAN slim (RDN, 2 dense blocks of 4 convolutions, DIV2K)'),
  upscalerJs('esrgan-medium', 'UpscalerJS ESRGAN medium (RDN, 10 dense blocks of 64-channel convolutions, DIV2K): about 3x the cost of esrgan-slim'),
  realEsrgan('realesr-general-x4v3', 'Real-ESRGAN realesr-general-x4v3 (SRVGGNetCompact, 32 convolutions): for real-world video with noise, blur and compression', [
    {
      scale: 4,
      param: { name: 'RealESRGAN_General_x4_v3.param', sha256: '22174924330297357434ad21ed0af7f4b820008d2a502b492754d130d4142714', bytes: 5019 },
      bin: { name: 'RealESRGAN_General_x4_v3.bin', sha256: '85ee266b632a765a725425ba6a5620c088c8aa2939a03063b2d83b3462724cc1', bytes: 2435272 },
    },
  ]),
  realEsrgan('realesr-animevideov3', 'Real-ESRGAN realesr-animevideov3 (SRVGGNetCompact, 16 convolutions): for animation video', [
    {
      scale: 2,
      param: { name: 'realesr-animevideov3-x2.param', sha256: 'b88ff4f00ebf019a7fdac17fdd45a7fd3665d37509efc5baf2e4da2e24420a04', bytes: 3173 },
      bin: { name: 'realesr-animevideov3-x2.bin', ...ANIME_BIN },
    },
    {
      scale: 4,
      param: { name: 'realesr-animevideov3-x4.param', sha256: '850a248e7c14c27e5bd8cf7265113a9441036a7db63963bb8aa5169d788a435e', bytes: 3077 },
      bin: { name: 'realesr-animevideov3-x4.bin', ...ANIME_BIN },
    },
  ]),
];

export function catalogEntry(id: string): CatalogEntry | undefined {
  return CATALOG.find((e) => e.id === id);
}

/** What to run to install a known model that is not there yet. */
export function installHint(entry: CatalogEntry): string {
  return entry.source.kind === 'npm' ? 'run `make models` (or `stream-sr models build`)' : `run \`stream-sr models pull ${entry.id}\``;
}

import { basename } from 'node:path';
import { PngEncoder, pngPicture } from '../av/png-encoder.js';
import type { EvalReport } from '../metrics/evaluate.js';
import { openPictures } from '../metrics/picture-reader.js';
import { bicubicResize } from '../preview/picture.js';
import { cropToFloat, floatToRgb24, frameToShow, regionsToShow, rgb24ToFloat, type Region } from './crops.js';
import { barChart, escapeXml, lineChart } from './svg-chart.js';

export interface ReportModel {
  readonly label: string;
  /** The scored output (video, image or folder of PNG frames), read again for the crops. */
  readonly path: string;
  readonly report: EvalReport;
}

export interface ReportSection {
  readonly title: string;
  /** Ground truth, as given to eval --ref. */
  readonly gt: string;
  /** The low-resolution input the models were given: its crops, scaled up with bicubic, are "before". */
  readonly input?: string;
  readonly models: readonly ReportModel[];
}

export interface ReportOptions {
  readonly title: string;
  readonly conditions: ReadonlyArray<readonly [string, string]>;
  readonly sections: readonly ReportSection[];
}

/** Crops shown at full size (1:1), this many, this big. */
const CROP = { width: 192, height: 144, count: 2 };

const num = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : v > 0 ? '∞' : '–');

/** Frame `index` (0-based) of a video, image or folder, as packed RGB24. */
async function readFrame(path: string, index: number): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const pictures = await openPictures(path);
  try {
    for (let i = 0; ; i++) {
      const rgb = await pictures.next();
      if (!rgb) throw new Error(`'${path}' has no frame ${index + 1}`);
      if (i === index) return { rgb, width: pictures.width, height: pictures.height };
    }
  } finally {
    pictures.close();
  }
}

async function pngDataUri(encoders: Map<string, PngEncoder>, planes: Float32Array, r: Region): Promise<string> {
  const key = `${r.width}x${r.height}`;
  let enc = encoders.get(key);
  if (!enc) encoders.set(key, (enc = await PngEncoder.create(r.width, r.height)));
  const info = { ...pngPicture(r.width, r.height), timeBase: { num: 1, den: 1 } };
  return `data:image/png;base64,${(await enc.encode({ info, pts: 0, duration: 1, index: 0, layout: 'rgb-float', rgb: planes })).toString('base64')}`;
}

/** Before / each model / ground truth, at full size, where the models differ most. */
async function cropsHtml(section: ReportSection): Promise<string> {
  const frame = frameToShow(section.models.map((m) => m.report.perFrame.map((f) => f.psnrY)));
  const gt = await readFrame(section.gt, frame);
  const shown: Array<{ label: string; rgb: Uint8Array }> = [];
  if (section.input) {
    const lr = await readFrame(section.input, frame);
    const up = bicubicResize({ width: lr.width, height: lr.height, rgb: rgb24ToFloat(lr.rgb, lr.width, lr.height) }, gt.width, gt.height);
    shown.push({ label: 'before: input, bicubic', rgb: floatToRgb24(up.rgb, gt.width, gt.height) });
  }
  for (const m of section.models) shown.push({ label: m.label, rgb: (await readFrame(m.path, frame)).rgb });
  const regions = regionsToShow(gt.rgb, shown.map((s) => s.rgb), gt.width, gt.height, CROP);
  const encoders = new Map<string, PngEncoder>();
  const rows: string[] = [];
  for (const r of regions) {
    const cells: string[] = [];
    for (const s of [...shown, { label: 'ground truth', rgb: gt.rgb }]) {
      const uri = await pngDataUri(encoders, cropToFloat(s.rgb, gt.width, r), r);
      cells.push(`<figure><img src="${uri}" width="${r.width}" height="${r.height}" alt="${escapeXml(`${s.label}, frame ${frame + 1}, x ${r.x}..${r.x + r.width - 1}, y ${r.y}..${r.y + r.height - 1}`)}"><figcaption>${escapeXml(s.label)}</figcaption></figure>`);
    }
    rows.push(`<p class="where">frame ${frame + 1}, pixels x ${r.x}–${r.x + r.width - 1}, y ${r.y}–${r.y + r.height - 1} of ${gt.width}x${gt.height}</p><div class="crops">${cells.join('')}</div>`);
  }
  const why = section.models.length > 1 ? 'the frame where the models’ PSNR-Y differs most, the regions where their errors differ most' : 'the model’s worst frame (lowest PSNR-Y), the regions where its error and bicubic’s differ most';
  return `<h3>Crops at full size</h3><p class="note">${why}.</p>${rows.join('')}`;
}

async function sectionHtml(section: ReportSection): Promise<string> {
  const ms = section.models;
  const table = ms
    .map((m) => {
      const r = m.report;
      const f = r.flicker;
      return `<tr><th scope="row">${escapeXml(m.label)}</th><td>${r.frames}</td><td>${num(r.mean.psnrY, 2)}</td><td>${num(r.mean.ssimY, 4)}</td><td>${num(r.mean.psnrRgb, 2)}</td><td>${num(r.mean.ssimRgb, 4)}</td><td>${f ? `${f.difference >= 0 ? '+' : ''}${f.difference.toFixed(3)}` : '–'}</td></tr>`;
    })
    .join('');
  const first = ms[0]!.report;
  const charts = [
    lineChart({ title: 'PSNR-Y per frame', yLabel: 'dB', series: ms.map((m) => ({ label: m.label, values: m.report.perFrame.map((f) => f.psnrY) })) }),
    lineChart({ title: 'SSIM-Y per frame', yLabel: 'SSIM', series: ms.map((m) => ({ label: m.label, values: m.report.perFrame.map((f) => f.ssimY) })) }),
  ];
  const flicker = ms.every((m) => m.report.flicker)
    ? barChart({ title: 'Flicker: mean |frame − previous| over RGB (0..255)', unit: '', rows: ms.map((m) => ({ label: m.label, value: m.report.flicker!.test })), marker: { label: 'ground truth', value: first.flicker!.ref } })
    : '<p class="note">flicker: n/a (one frame)</p>';
  return `<section>
<h2>${escapeXml(section.title)}</h2>
<p class="note">ground truth ${escapeXml(basename(section.gt))}, ${first.width}x${first.height}, ${first.frames} frames${first.crop ? `, ${first.crop} px left out at each edge for the scores` : ''}${section.input ? `; input ${escapeXml(basename(section.input))}` : ''}</p>
<div class="scroll"><table><thead><tr><th scope="col">Model</th><th scope="col">Frames</th><th scope="col">PSNR-Y dB</th><th scope="col">SSIM-Y</th><th scope="col">PSNR-RGB dB</th><th scope="col">SSIM-RGB</th><th scope="col">Flicker vs GT</th></tr></thead><tbody>${table}</tbody></table></div>
<p class="note">BT.601 Y (limited range), means of the per-frame figures. Flicker vs GT: the output's mean frame-to-frame change minus the ground truth's; above 0, it changes more than the real scene.</p>
<div class="charts">${charts.join('')}${flicker}</div>
${await cropsHtml(section)}
</section>`;
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;color:#1b1f24;background:#fff;margin:0 auto;padding:1rem 1.2rem 3rem;max-width:1200px}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.2rem;margin:2rem 0 .4rem;border-top:1px solid #d5d9e0;padding-top:1rem}h3{font-size:1.05rem;margin:1.4rem 0 .3rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #d5d9e0;padding:.25rem .55rem;text-align:right;font-variant-numeric:tabular-nums}th[scope=row],thead th{text-align:left;background:#f3f5f8}
.scroll{overflow-x:auto;max-width:100%}.note{color:#5b6470;font-size:.88rem;margin:.3rem 0}.charts{display:flex;flex-direction:column;gap:1rem;margin:1rem 0}.chart{max-width:100%;height:auto}
.crops{display:flex;flex-wrap:wrap;gap:.6rem}.crops figure{margin:0}.crops img{display:block;image-rendering:pixelated;border:1px solid #ccc}.crops figcaption{font-size:.8rem;color:#333;max-width:192px}.where{font-size:.85rem;margin:.8rem 0 .3rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;font-size:.88rem}dt{color:#5b6470}dd{margin:0}`;

/** One self-contained HTML file: inline CSS, inline SVG charts, crops as data: PNGs; no script. */
export async function qualityReportHtml(opts: ReportOptions): Promise<string> {
  const sections: string[] = [];
  for (const s of opts.sections) sections.push(await sectionHtml(s));
  const conditions = opts.conditions.map(([k, v]) => `<dt>${escapeXml(k)}</dt><dd>${escapeXml(v)}</dd>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeXml(opts.title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeXml(opts.title)}</h1><dl>${conditions}</dl>
${sections.join('\n')}
</body></html>
`;
}

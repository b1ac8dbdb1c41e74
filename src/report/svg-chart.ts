/** Line and bar charts as inline SVG text, for self-contained HTML reports (no script, no fonts). */

export const PALETTE = ['#0b63c5', '#d9480f', '#2b8a3e', '#7048e8', '#c2255c', '#0c8599', '#5c940d', '#e67700'];

export interface Series {
  readonly label: string;
  readonly values: ReadonlyArray<number | null>;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round steps for an axis from lo to hi: 1, 2 or 5 times a power of ten, about `count` of them. */
function ticks(lo: number, hi: number, count = 5): { lo: number; hi: number; step: number } {
  const raw = (hi - lo || Math.abs(hi) || 1) / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  return { lo: Math.floor(lo / step) * step, hi: Math.ceil(hi / step) * step, step };
}

const label = (v: number, step: number): string => v.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));

/** One line per series over x = 1..n (frame numbers), y fitted to the finite values. */
export function lineChart(opts: { title: string; yLabel: string; series: readonly Series[]; width?: number; height?: number }): string {
  const W = opts.width ?? 760;
  const H = opts.height ?? 260;
  const [L, R, T, B] = [52, 12, 30, 36];
  const finite = opts.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const n = Math.max(2, ...opts.series.map((s) => s.values.length));
  const { lo, hi, step } = ticks(finite.length ? Math.min(...finite) : 0, finite.length ? Math.max(...finite) : 1);
  const x = (i: number): number => L + (i / (n - 1)) * (W - L - R);
  const y = (v: number): number => T + (1 - (v - lo) / (hi - lo || 1)) * (H - T - B);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(opts.title)}" class="chart">`];
  out.push(`<text x="${L}" y="14" font-size="13" font-weight="600">${escapeXml(opts.title)}</text>`);
  for (let v = lo; v <= hi + step / 2; v += step) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e6eb"/>`);
    out.push(`<text x="${L - 5}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#555">${label(v, step)}</text>`);
  }
  const xt = ticks(1, n, 8);
  for (let f = Math.max(xt.step, 1); f <= n; f += xt.step) out.push(`<text x="${x(f - 1).toFixed(1)}" y="${H - 20}" font-size="11" text-anchor="middle" fill="#555">${f}</text>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 4}" font-size="11" text-anchor="middle" fill="#555">frame</text>`);
  out.push(`<text x="12" y="${(T + H - B) / 2}" font-size="11" text-anchor="middle" fill="#555" transform="rotate(-90 12 ${(T + H - B) / 2})">${escapeXml(opts.yLabel)}</text>`);
  opts.series.forEach((s, k) => {
    let d = '';
    let pen = 'M';
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return void (pen = 'M');
      d += `${pen}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = 'L';
    });
    const color = PALETTE[k % PALETTE.length]!;
    if (d) out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"><title>${escapeXml(s.label)}</title></path>`);
    const lx = L + 200 + (k % 3) * 170;
    const ly = 14 + Math.floor(k / 3) * 14;
    out.push(`<rect x="${lx}" y="${ly - 8}" width="12" height="3" fill="${color}"/><text x="${lx + 16}" y="${ly - 3}" font-size="11">${escapeXml(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('');
}

/** Horizontal bars, one per row, from 0; `marker` draws a dashed reference line (the ground truth's value). */
export function barChart(opts: { title: string; unit: string; rows: ReadonlyArray<{ label: string; value: number }>; marker?: { label: string; value: number }; width?: number }): string {
  const W = opts.width ?? 760;
  const [L, R, T, row] = [200, 70, 28, 24];
  const H = T + opts.rows.length * row + 22;
  const max = Math.max(...opts.rows.map((r) => r.value), opts.marker?.value ?? 0, 1e-9) * 1.1;
  const x = (v: number): number => L + (v / max) * (W - L - R);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(opts.title)}" class="chart">`];
  out.push(`<text x="0" y="14" font-size="13" font-weight="600">${escapeXml(opts.title)}</text>`);
  opts.rows.forEach((r, i) => {
    const y = T + i * row;
    out.push(`<text x="${L - 6}" y="${y + 15}" font-size="12" text-anchor="end">${escapeXml(r.label)}</text>`);
    out.push(`<rect x="${L}" y="${y + 3}" width="${Math.max(1, x(r.value) - L).toFixed(1)}" height="${row - 8}" fill="${PALETTE[i % PALETTE.length]}"/>`);
    out.push(`<text x="${(x(r.value) + 5).toFixed(1)}" y="${y + 15}" font-size="11" fill="#333">${r.value.toFixed(3)} ${escapeXml(opts.unit)}</text>`);
  });
  if (opts.marker) {
    const mx = x(opts.marker.value).toFixed(1);
    out.push(`<line x1="${mx}" x2="${mx}" y1="${T - 2}" y2="${H - 18}" stroke="#111" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${mx}" y="${H - 5}" font-size="11" text-anchor="middle">${escapeXml(opts.marker.label)} ${opts.marker.value.toFixed(3)}</text>`);
  }
  out.push('</svg>');
  return out.join('');
}

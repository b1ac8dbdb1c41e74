import type { DownloadProgress } from '../models/download.js';

const WIDTH = 30;

export function progressBar(p: DownloadProgress): string {
  const fraction = p.total > 0 ? Math.min(1, p.received / p.total) : 0;
  const filled = Math.round(fraction * WIDTH);
  const mb = (n: number) => (n / 1e6).toFixed(1);
  return `${p.file.padEnd(32)} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${mb(p.received)}/${p.total ? mb(p.total) : '?'} MB${p.done ? ' sha256 ok' : ''}`;
}

/**
 * Draws download progress on stderr: one bar redrawn in place on a terminal; in a log, a bar line
 * at each quarter, so that a long download still shows it is moving.
 */
export function downloadProgressReporter(stream: NodeJS.WriteStream = process.stderr): (p: DownloadProgress) => void {
  let lastQuarter = -1;
  let lastFile = '';
  return (p) => {
    if (p.file !== lastFile) [lastFile, lastQuarter] = [p.file, -1];
    if (stream.isTTY) {
      stream.write(`\r${progressBar(p)}\x1b[K${p.done ? '\n' : ''}`);
      return;
    }
    const quarter = p.done ? 4 : p.total > 0 ? Math.floor((4 * p.received) / p.total) : 0;
    if (quarter > lastQuarter && (quarter < 4 || p.done)) {
      lastQuarter = quarter;
      stream.write(`${progressBar(p)}\n`);
    }
  };
}

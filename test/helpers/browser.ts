import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { ROOT } from './media.js';

/** Debian's chromium (apt), or CHROMIUM_PATH; undefined when neither is there. */
export function chromiumPath(): string | undefined {
  return [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => Boolean(p && existsSync(p)));
}

export const SCREENSHOTS = join(ROOT, 'test-output');

/**
 * Headless chromium through puppeteer-core, with a fresh profile. The flags keep it from reaching
 * for the network (closed here: without them it stalls on start) and from needing a GPU.
 */
export async function launchChromium(executablePath: string): Promise<Browser> {
  const { launch } = await import('puppeteer-core');
  const profile = mkdtempSync(join(tmpdir(), 'stream-sr-chromium-'));
  const browser = await launch({
    executablePath,
    headless: true,
    timeout: 60000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`],
  });
  // chromium's last child processes may still write there as it disconnects
  browser.once('disconnected', () => setTimeout(() => {
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    } catch {
      // a temp folder left behind is no failure of the test
    }
  }, 500));
  return browser;
}

/** Everything the page logs as an error, and every request it fails or is refused. */
export function recordProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
  // a request the page itself cancels (a player leaving a segment) is not a failure
  page.on('requestfailed', (r) => r.failure()?.errorText !== 'net::ERR_ABORTED' && problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return problems;
}

export async function screenshot(page: Page, name: string, size: { width: number; height: number }): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.setViewport(size);
  await new Promise((r) => setTimeout(r, 300));
  const path = join(SCREENSHOTS, `${name}-${size.width}x${size.height}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';

/**
 * Serves a folder on 127.0.0.1 the way a static file host would, plus two faults: under /corrupt/
 * every file has one byte changed, under /cut/ the connection is dropped halfway through the body
 * (after sending the full Content-Length).
 */
export async function startModelServer(root: string): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const [, mode, ...rest] = (req.url ?? '/').split('/');
    const fault = mode === 'corrupt' || mode === 'cut' ? mode : undefined;
    const relative = normalize((fault ? rest : [mode, ...rest]).join('/'));
    if (relative.startsWith('..')) return void res.writeHead(403).end();
    readFile(join(root, relative)).then(
      (data) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
        if (fault === 'corrupt') {
          const copy = Buffer.from(data);
          copy[copy.length >> 1] ^= 0xff;
          res.end(copy);
        } else if (fault === 'cut') {
          res.write(data.subarray(0, data.length >> 1), () => setTimeout(() => res.socket?.destroy(), 50));
        } else res.end(data);
      },
      () => res.writeHead(404).end('not found'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

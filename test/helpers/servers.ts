import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, fixture } from './media.js';

/** A loopback port nobody listens on right now (TCP, or UDP for SRT/UDP receivers). */
export function freePort(kind: 'tcp' | 'udp' = 'tcp'): Promise<number> {
  return new Promise((resolve, reject) => {
    if (kind === 'udp') {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => {
        const port = s.address().port;
        s.close(() => resolve(port));
      });
      return;
    }
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A server or feeder process the test started, stopped by its own pid. */
export class Managed {
  readonly child: ChildProcess;
  output = '';
  exited = false;
  readonly exit: Promise<number | null>;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv = {},
  ) {
    this.child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const keep = (d: Buffer): void => {
      this.output = (this.output + d.toString()).slice(-20000);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exit = new Promise((resolve) => this.child.once('exit', (code) => ((this.exited = true), resolve(code))));
  }

  async ready(pattern: RegExp, timeoutMs = 15000): Promise<this> {
    await waitFor(() => pattern.test(this.output) || this.exited, timeoutMs, `${this.name} to be ready`);
    if (this.exited) throw new Error(`${this.name} exited before it was ready:\n${this.output}`);
    return this;
  }

  /** Stops it (SIGTERM, then SIGKILL after 5 s) and waits for it to go. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exited) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exit;
    clearTimeout(timer);
  }
}

/** GStreamer's RTSP server with a live test pattern (test/helpers/rtsp-camera.py). */
export async function startRtspCamera(opts: { port?: number; size?: string; fps?: number; audio?: boolean } = {}): Promise<{ server: Managed; url: string; port: number }> {
  const port = opts.port ?? (await freePort());
  const args = [join(ROOT, 'test', 'helpers', 'rtsp-camera.py'), '--port', String(port), '--size', opts.size ?? '160x96', '--fps', String(opts.fps ?? 25)];
  if (opts.audio === false) args.push('--no-audio');
  const server = await new Managed('rtsp-camera', '/usr/bin/python3', args).ready(/^ready /m);
  return { server, url: `rtsp://127.0.0.1:${port}/cam`, port };
}

/** Debian's rtsp-server-perl: publishers ANNOUNCE/RECORD on one port, players pull on the other (UDP). */
export async function startRtspRelay(): Promise<{ server: Managed; publishUrl: (path: string) => string; playUrl: (path: string) => string }> {
  const clientPort = await freePort();
  const sourcePort = await freePort();
  const server = new Managed('rtsp-server-perl', '/usr/bin/rtsp-server-perl', [
    '--clientport', String(clientPort), '--serverport', String(sourcePort),
    '--client_listen_address', '127.0.0.1', '--source_listen_address', '127.0.0.1',
  ]);
  await waitFor(async () => (await isListening(clientPort)) && (await isListening(sourcePort)), 15000, 'rtsp-server-perl');
  return { server, publishUrl: (p) => `rtsp://127.0.0.1:${sourcePort}/${p}`, playUrl: (p) => `rtsp://127.0.0.1:${clientPort}/${p}` };
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** nginx with the RTMP module (live application `live`) and a static HTTP server over `root`. */
export async function startNginx(dir: string): Promise<{ server: Managed; rtmpPort: number; httpPort: number; root: string }> {
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const root = join(dir, 'www');
  mkdirSync(root, { recursive: true });
  for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, t), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
rtmp { server { listen 127.0.0.1:${rtmpPort}; chunk_size 4096; application live { live on; record off; } } }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; video/mp4 mp4; }
  server { listen 127.0.0.1:${httpPort}; root ${root}; add_header Cache-Control no-cache; }
}
`);
  const server = new Managed('nginx', '/usr/sbin/nginx', ['-c', conf, '-p', dir, '-e', join(dir, 'error.log')]);
  await waitFor(async () => (await isListening(rtmpPort)) && (await isListening(httpPort)), 15000, 'nginx');
  return { server, rtmpPort, httpPort, root };
}

/** ffmpeg sending a clip in a loop at its own pace (-re), like a camera or a contribution encoder. */
export function ffmpegFeed(input: string, outArgs: readonly string[]): Managed {
  return new Managed('ffmpeg feed', 'ffmpeg', ['-v', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', input, ...outArgs]);
}

/** 160x96 H.264 (a keyframe a second, no B-frames) with AAC, 25 fps, 10 s: what the feeders loop. */
export function liveClip(): string {
  return fixture('live-160x96.mkv', (o) => [
    '-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25:duration=10', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=10',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-f', 'matroska', o,
  ]);
}

/** ffmpeg reading a live output back (a player, a listener, an RTMP/RTSP client). */
export function ffmpegReceiver(args: readonly string[]): Managed {
  return new Managed('ffmpeg receiver', 'ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args]);
}

/** The same kind of clip at 240x144: a sender that changes resolution. */
export function liveClipLarger(): string {
  return fixture('live-240x144.mkv', (o) => [
    '-f', 'lavfi', '-i', 'testsrc2=size=240x144:rate=25:duration=6', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-pix_fmt', 'yuv420p', '-f', 'matroska', o,
  ]);
}

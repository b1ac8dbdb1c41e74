import { freePort, Managed } from './servers.js';

/**
 * A real Redis for queue tests: on 127.0.0.1, a free port, its own folder, append-only file on (so
 * a restart keeps the jobs, as a production Redis would), no RDB snapshots.
 */
export class TestRedis {
  server?: Managed;

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(dir: string): Promise<TestRedis> {
    const r = new TestRedis(await freePort(), dir);
    await r.up();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    this.server = await new Managed('redis-server', 'redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always']).ready(/Ready to accept connections/);
  }

  /** SIGTERM: Redis finishes its append-only file and exits, as on a clean restart. */
  async down(): Promise<void> {
    await this.server?.stop('SIGTERM');
  }
}

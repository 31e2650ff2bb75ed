// Progress for long work: a redrawn bar on a TTY, plain lines otherwise (logs, CI, pipes).

export interface ProgressOptions {
  total: number;
  label?: string;
  stream?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean; columns?: number };
  /** Plain-line mode prints at most this often (ms). */
  plainInterval?: number;
  now?: () => number;
}

export class Progress {
  private done = 0;
  private readonly start: number;
  private lastPlain = -Infinity;
  private current = '';
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly tty: boolean;
  private readonly now: () => number;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && !process.env.CI;
    this.now = opts.now ?? Date.now;
    this.start = this.now();
  }

  /** Names the item being worked on now. */
  setCurrent(name: string): void {
    this.current = name;
    this.render(false);
  }

  tick(n = 1, name?: string): void {
    this.done = Math.min(this.opts.total, this.done + n);
    if (name !== undefined) this.current = name;
    this.render(this.done === this.opts.total);
  }

  /** Estimated seconds left, from the mean time per finished item. */
  eta(): number | undefined {
    if (this.done === 0) return undefined;
    const elapsed = (this.now() - this.start) / 1000;
    return (elapsed / this.done) * (this.opts.total - this.done);
  }

  finish(message?: string): void {
    if (this.tty) this.stream.write('\r\x1b[2K');
    if (message) this.stream.write(message + '\n');
  }

  line(): string {
    const { total, label } = this.opts;
    const pct = total ? Math.floor((this.done / total) * 100) : 100;
    const eta = this.eta();
    const etaText = eta === undefined ? '' : ` ETA ${formatDuration(eta)}`;
    return `${label ? label + ' ' : ''}${this.done}/${total} (${pct}%)${etaText}${this.current ? ` ${this.current}` : ''}`;
  }

  private render(force: boolean): void {
    if (this.tty) {
      const width = Math.max(10, Math.min(30, ((this.stream as { columns?: number }).columns ?? 80) - 60));
      const filled = this.opts.total ? Math.round((this.done / this.opts.total) * width) : width;
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      const text = `${bar} ${this.line()}`;
      const cols = (this.stream as { columns?: number }).columns ?? 120;
      this.stream.write('\r\x1b[2K' + text.slice(0, cols - 1));
    } else {
      const t = this.now();
      if (force || t - this.lastPlain >= (this.opts.plainInterval ?? 2000)) {
        this.lastPlain = t;
        this.stream.write(this.line() + '\n');
      }
    }
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60),
    s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

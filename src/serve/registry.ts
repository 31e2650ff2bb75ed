// The served models and their versions. A model's base directory holds numbered version
// directories (`<base>/<version>/model.json`, TF Serving's layout) or a model.json directly
// (served as version 1). Served versions: the highest one plus those a label points to (TF
// Serving's default "latest" policy). The directory is rescanned every pollIntervalMs — a
// poll, like TF Serving's file-system source, because fs.watch misses events on network
// and container file systems: a new version is loaded next to the old one, requests switch
// to it once it is AVAILABLE, and the old one drains (its queued and running requests
// finish) before its sessions are freed, so no request fails during the swap.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { notFound } from './errors.js';
import type { ServeMetrics } from './metrics.js';
import type { ModelSourceConfig, ResolvedServeOptions } from './options.js';
import { Servable } from './servable.js';

export type VersionState = 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END';

interface VersionEntry {
  version: number;
  dir: string;
  state: VersionState;
  servable?: Servable;
  error?: string;
  /** Newest mtime of the files when a load failed: retried only when the files change. */
  failedStamp?: number;
  /** Settles when an UNLOADING version has drained and freed its sessions. */
  unloaded?: Promise<void>;
}

interface ModelEntry {
  config: ModelSourceConfig;
  versions: Map<number, VersionEntry>;
  /** The base directory holds model.json itself (one fixed version). */
  flat: boolean;
}

export interface VersionSelector {
  version?: number;
  label?: string;
}

export interface VersionStatus {
  version: string;
  state: VersionState;
  status: { error_code: string; error_message: string };
}

/** Numbered subdirectories holding a model.json, or [1] for a model.json in the base itself. */
async function scanVersions(base: string): Promise<{ flat: boolean; versions: Map<number, string> }> {
  const versions = new Map<number, string>();
  const entries = await fs.readdir(base, { withFileTypes: true });
  for (const e of entries) {
    if (!e.isDirectory() || !/^\d+$/.test(e.name)) continue;
    const v = Number(e.name);
    if (!Number.isSafeInteger(v)) continue;
    const dir = join(base, e.name);
    if (
      await fs.stat(join(dir, 'model.json')).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      versions.set(v, dir);
  }
  if (!versions.size && entries.some((e) => e.isFile() && e.name === 'model.json'))
    return { flat: true, versions: new Map([[1, base]]) };
  return { flat: false, versions };
}

async function newestMtime(dir: string): Promise<number> {
  let t = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isFile())
      t = Math.max(
        t,
        await fs.stat(join(dir, e.name)).then(
          (s) => s.mtimeMs,
          () => 0,
        ),
      );
  }
  return t;
}

export class ModelRegistry {
  private readonly models = new Map<string, ModelEntry>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly o: ResolvedServeOptions,
    private readonly metrics: ServeMetrics,
    private readonly log: FastifyBaseLogger,
  ) {
    for (const c of o.models) this.models.set(c.name, { config: c, versions: new Map(), flat: false });
  }

  /** First scan and load (a model without a loadable version is an error); then polling. */
  async start(): Promise<void> {
    for (const m of this.models.values()) {
      await fs.readdir(m.config.path).catch((e: NodeJS.ErrnoException) => {
        throw new Error(`model '${m.config.name}': cannot read ${m.config.path} (${e.code ?? e.message})`);
      });
    }
    this.polling = this.poll();
    await this.polling;
    this.polling = undefined;
    // A server that would answer 404 for a model from the start is a configuration error.
    const missing = [...this.models.values()].filter(
      (m) => ![...m.versions.values()].some((e) => e.state === 'AVAILABLE'),
    );
    if (missing.length) {
      await this.close();
      throw new Error(
        missing
          .map((m) => {
            const errors = [...m.versions.values()]
              .filter((e) => e.error)
              .map((e) => `version ${e.version}: ${e.error}`);
            return `model '${m.config.name}': no version could be loaded from ${m.config.path} (${errors.length ? errors.join('; ') : 'no model.json, and no numbered version directory holding one'})`;
          })
          .join('\n'),
      );
    }
    if (this.o.pollIntervalMs > 0 && !this.closed) this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        if (!this.closed) this.schedule();
      });
    }, this.o.pollIntervalMs);
    this.timer.unref();
  }

  /** Rescans every model (also callable directly, e.g. by tests, instead of waiting for the timer). */
  async poll(): Promise<void> {
    for (const m of this.models.values()) {
      if (this.closed) return;
      await this.reconcile(m).catch((e: Error) =>
        this.log.error({ model: m.config.name, err: e }, `model '${m.config.name}': rescanning failed: ${e.message}`),
      );
    }
  }

  private wanted(m: ModelEntry, found: Map<number, string>): Set<number> {
    const want = new Set<number>();
    if (found.size) want.add(Math.max(...found.keys()));
    for (const v of Object.values(m.config.labels)) if (found.has(v)) want.add(v);
    return want;
  }

  private async reconcile(m: ModelEntry): Promise<void> {
    const { flat, versions: found } = await scanVersions(m.config.path);
    m.flat = flat;
    const want = this.wanted(m, found);
    for (const v of [...want].sort((a, b) => b - a)) {
      const e = m.versions.get(v);
      if (e?.state === 'AVAILABLE' || e?.state === 'LOADING') continue;
      const dir = found.get(v)!;
      if (e?.failedStamp !== undefined && e.failedStamp === (await newestMtime(dir))) continue;
      await this.load(m, v, dir);
    }
    // Unload what is no longer wanted, but never the last available version of a model.
    const available = [...m.versions.values()].filter((e) => e.state === 'AVAILABLE' && want.has(e.version));
    for (const e of [...m.versions.values()]) {
      if (want.has(e.version) || e.state !== 'AVAILABLE') {
        if (!want.has(e.version) && e.state === 'END') m.versions.delete(e.version);
        continue;
      }
      if (!available.length) continue;
      this.unload(m, e);
    }
  }

  private async load(m: ModelEntry, version: number, dir: string): Promise<void> {
    const name = m.config.name;
    const e: VersionEntry = { version, dir, state: 'LOADING' };
    m.versions.set(version, e);
    try {
      const s = await Servable.load(
        name,
        version,
        dir,
        {
          threads: this.o.threads,
          sessions: this.o.sessions,
          maxBatch: this.o.maxBatch,
          batchTimeoutMs: this.o.batchTimeoutMs,
          maxQueue: this.o.maxQueue,
        },
        this.metrics.hooksFor(name, version),
      );
      if (this.closed) {
        await s.unload();
        e.state = 'END';
        return;
      }
      e.servable = s;
      e.state = 'AVAILABLE';
      this.metrics.setVersionState(name, version, s.memory, s.queueDepth);
      this.log.info(
        { model: name, version, batching: s.batching },
        `model '${name}' version ${version} is available${s.batching.enabled ? '' : ` (requests run one at a time: ${s.batching.reason})`}`,
      );
    } catch (err) {
      e.state = 'END';
      e.error = (err as Error).message;
      e.failedStamp = await newestMtime(dir);
      this.log.error({ model: name, version, err }, `model '${name}' version ${version} failed to load: ${e.error}`);
    }
  }

  /** Takes the version out of routing now; its sessions are freed once it has drained. */
  private unload(m: ModelEntry, e: VersionEntry): void {
    const s = e.servable!;
    e.state = 'UNLOADING';
    this.log.info(
      { model: m.config.name, version: e.version },
      `model '${m.config.name}' version ${e.version}: draining`,
    );
    e.unloaded = s.unload().then(() => {
      e.state = 'END';
      e.servable = undefined;
      this.metrics.forgetVersion(m.config.name, e.version);
    });
  }

  private model(name: string): ModelEntry {
    const m = this.models.get(name);
    if (!m)
      throw notFound(
        `Servable not found for request: Latest(${name}) (no model named '${name}'; models: ${[...this.models.keys()].join(', ')})`,
      );
    return m;
  }

  /** Whether `name` is a configured model (for metric labels: unknown names are not recorded). */
  has(name: string): boolean {
    return this.models.has(name);
  }

  /** The version a request is for: explicit, by label, or the highest available one. */
  resolve(name: string, sel: VersionSelector = {}): Servable {
    const m = this.model(name);
    let v = sel.version;
    if (sel.label !== undefined) {
      v = m.config.labels[sel.label];
      if (v === undefined)
        throw notFound(
          `Unrecognized servable version label: ${sel.label} (model '${name}' labels: ${Object.keys(m.config.labels).join(', ') || 'none'})`,
        );
    }
    if (v === undefined) {
      const avail = [...m.versions.values()].filter((e) => e.state === 'AVAILABLE');
      if (!avail.length)
        throw notFound(`Servable not found for request: Latest(${name}) (no version of '${name}' is available)`);
      return avail.reduce((a, b) => (b.version > a.version ? b : a)).servable!;
    }
    const e = m.versions.get(v);
    if (e?.state !== 'AVAILABLE')
      throw notFound(
        `Servable not found for request: Specific(${name}, ${v}) (version ${v} is ${e ? e.state.toLowerCase() : 'not loaded'})`,
      );
    return e.servable!;
  }

  /** TF Serving's model_version_status for all versions, one version or a label. */
  status(name: string, sel: VersionSelector = {}): VersionStatus[] {
    const m = this.model(name);
    let list = [...m.versions.values()];
    if (sel.label !== undefined || sel.version !== undefined) {
      const v = sel.label !== undefined ? m.config.labels[sel.label] : sel.version;
      if (v === undefined) throw notFound(`Unrecognized servable version label: ${sel.label}`);
      list = list.filter((e) => e.version === v);
      if (!list.length) throw notFound(`Could not find version ${v} of model '${name}'`);
    }
    return list
      .sort((a, b) => b.version - a.version)
      .map((e) => ({
        version: String(e.version),
        state: e.state,
        status: { error_code: e.error ? 'UNKNOWN' : 'OK', error_message: e.error ?? '' },
      }));
  }

  /** Every configured model has an available version. */
  get ready(): boolean {
    return (
      !this.closed &&
      [...this.models.values()].every((m) => [...m.versions.values()].some((e) => e.state === 'AVAILABLE'))
    );
  }

  /** Refreshes the gauges of session memory (arenas grow with the batch size) and queue depth. */
  updateMetrics(): void {
    for (const m of this.models.values())
      for (const e of m.versions.values())
        if (e.servable && e.state === 'AVAILABLE')
          this.metrics.setVersionState(m.config.name, e.version, e.servable.memory, e.servable.queueDepth);
  }

  /** Stops looking for new versions; /readyz turns 503 (the server is going away). */
  stopPolling(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  /** From now on batches leave as soon as a session is free (shutting down: no more waiting). */
  flush(): void {
    for (const m of this.models.values()) for (const e of m.versions.values()) e.servable?.flush();
  }

  /** Stops polling, finishes every queued and running request, frees every session. */
  async close(): Promise<void> {
    this.stopPolling();
    await this.polling;
    for (const m of this.models.values())
      for (const e of m.versions.values()) if (e.state === 'AVAILABLE') this.unload(m, e);
    // Including the versions that were already draining.
    await Promise.all([...this.models.values()].flatMap((m) => [...m.versions.values()].map((e) => e.unloaded)));
  }
}

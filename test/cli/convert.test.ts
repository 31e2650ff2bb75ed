// `tfjs-quant convert` driven as a user would: spawned processes on a zoo of fixture models
// (written by the test), one of them corrupt.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/load.js';
import { execute } from '../../src/model/execute.js';
import { writeZoo } from '../support/model-zoo.js';
import { runCli } from '../support/cli.js';
import { main } from '../../src/cli/main.js';

let zoo: string;
let work: string;
const ONLY = ['mlp/small', 'mlp/wide', 'cnn/sequential', 'graph/convnet'];

async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else
        out[p] = createHash('sha256')
          .update(await fs.readFile(p))
          .digest('hex');
    }
  };
  await walk(dir);
  return out;
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      out.push(p);
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out;
}

beforeAll(async () => {
  await initFloatBackend();
  work = await fs.mkdtemp(join(tmpdir(), 'tfjq-cli-'));
  zoo = join(work, 'zoo');
  await writeZoo(zoo, { only: ONLY, corrupt: true });
});

describe('convert: usage errors exit 2 with a message', () => {
  it.each([
    [['convert', '--bogus', 'x', '-o', 'y'], /unknown option '--bogus'/],
    [['convert', 'ZOO'], /-o\/--output DIR is required/],
    [['convert', 'ZOO/nope', '-o', 'OUT'], /does not exist/],
    [['convert', 'ZOO', '-o', 'ZOO/inside'], /inside the input directory/],
    [['convert', 'EMPTY', '-o', 'OUT'], /no model.json found/],
    [['convert', 'ZOO', '-o', 'OUT', '--mode', 'int9'], /--mode must be one of/],
    [['convert', 'ZOO', '-o', 'OUT', '--mode', 'compress', '--format', 'tfjs'], /compress needs --format native/],
    [['convert', 'ZOO', '-o', 'OUT', '--mode', 'dynamic', '--equalize'], /--equalize applies to --mode int8/],
    [['convert', 'ZOO', '-o', 'OUT', '--mode', 'int8', '--equalize', '--per-tensor'], /needs per-channel weights/],
    [['convert', 'ZOO', '-o', 'OUT', '--mode', 'int8', '--equalize', '--bias-correction'], /cannot be combined/],
  ])('%j', async (args, message) => {
    await fs.mkdir(join(work, 'empty'), { recursive: true });
    const out: string[] = [],
      err: string[] = [];
    const code = await main(
      args.map((a) =>
        a.replace('ZOO', zoo).replace('OUT', join(work, 'out-usage')).replace('EMPTY', join(work, 'empty')),
      ),
      { stdout: (s) => out.push(s), stderr: (s) => err.push(s) },
    );
    expect(code).toBe(2);
    expect(err.join('')).toMatch(message);
    expect(existsSync(join(zoo, 'inside'))).toBe(false);
  });

  it('--help documents the command and exits 0', async () => {
    const r = await runCli(['convert', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: tfjs-quant convert/);
    expect(r.stdout).toMatch(/--skip-existing/);
    expect(r.stdout).toMatch(/Exit codes/);
  });
});

describe('convert --mode dynamic: layers too narrow for the dynamic kernel', () => {
  it('run float on their int8 weights and the report says why; --dynamic-min-k / --dynamic-min-n 0 keep them dynamic', async () => {
    // mlp/small: fc1 8 → 16, fc2 16 → 12, fc3 12 → 5 — every K is below 64, every N below 32.
    const report = async (extra: string[]) => {
      const out = join(work, `out-narrow${extra.join('')}`);
      const r = await runCli(['convert', join(zoo, 'mlp/small'), '-o', out, '--mode', 'dynamic', ...extra]);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(await fs.readFile(join(out, 'report.json'), 'utf8'));
      const m = j.models ? j.models[0] : j;
      return (m.floatNodes ?? []) as { name: string; reason: string }[];
    };
    const sizes = (fs: { reason: string }[], re: RegExp) =>
      fs.flatMap((f) => (re.test(f.reason) ? [Number(re.exec(f.reason)![1])] : [])).sort((a, b) => a - b);
    // The K rule comes first; without it, the N rule names the output channels.
    expect(sizes(await report([]), /K = (\d+) < 64: float on its int8 weights/)).toEqual([8, 12, 16]);
    expect(sizes(await report(['--dynamic-min-k', '0']), /N = (\d+) < 32: float on its int8 weights/)).toEqual([
      5, 12, 16,
    ]);
    const none = await report(['--dynamic-min-k', '0', '--dynamic-min-n', '0']);
    expect(none.filter((f) => /[KN] = \d+ </.test(f.reason))).toEqual([]);
  }, 120_000);
});

describe('convert --mode compress: a batch with a corrupt model', () => {
  let out: string;
  let first: Awaited<ReturnType<typeof runCli>>;
  let before: Record<string, string>;

  beforeAll(async () => {
    out = join(work, 'out');
    before = await hashTree(zoo);
    // Batch mechanics, not fidelity: Deep Compression without retraining keeps mlp/wide at a
    // cosine near 0.98, below the default tolerance 0.99 (it would be `degraded`).
    first = await runCli([
      'convert',
      zoo,
      '-o',
      out,
      '--mode',
      'compress',
      '--jobs',
      '2',
      '--eval-samples',
      '4',
      '--runs',
      '2',
      '--tolerance',
      '0.9',
    ]);
  }, 180_000);

  it('converts the others, reports the corrupt one and exits 1', async () => {
    expect(first.code, first.stderr).toBe(1);
    const report = JSON.parse(await fs.readFile(join(out, 'report.json'), 'utf8'));
    const byRel = Object.fromEntries(report.models.map((m: { rel: string }) => [m.rel, m]));
    expect(byRel['broken/truncated'].status).toBe('failed');
    expect(byRel['broken/truncated'].error).toMatch(/weights\.bin/);
    for (const rel of ONLY) {
      expect(byRel[rel].status, rel).toBe('done');
      expect(existsSync(join(out, rel, 'model.json')), rel).toBe(true);
    }
    expect(report.totals).toMatchObject({ models: 5, done: 4, failed: 1 });
    expect(first.stdout).toMatch(/broken\/truncated\s+failed/);
    // The big dense model really shrank: 50% pruning + 5-bit sharing + Huffman.
    expect(byRel['mlp/wide'].ratio).toBeGreaterThan(6);
  });

  it('never modifies the inputs and leaves no temporary files', async () => {
    expect(await hashTree(zoo)).toEqual(before);
    expect((await listTree(out)).filter((p) => /\.tmp-|tfjs-quant-tmp/.test(p))).toEqual([]);
  });

  it('outputs load and compute what the report measured (decoded weights = compressed graph)', async () => {
    const src = await loadModel(join(zoo, 'mlp/wide/model.json'));
    const dst = await loadModel(join(out, 'mlp/wide/model.json'));
    const k0 = src.constants.get([...src.constants.keys()].find((k) => k.includes('fc1') && k.includes('kernel'))!)!;
    const k1 = dst.constants.get(k0.name)!;
    expect(k1.quantization?.encoded?.encoding).toBe('deep-compression');
    const v0 = k0.data as Float32Array,
      v1 = k1.data as Float32Array;
    let zeros = 0;
    const distinct = new Set<number>();
    for (let i = 0; i < v1.length; i++) {
      if (v1[i] === 0) zeros++;
      else distinct.add(v1[i]!);
    }
    expect(zeros / v1.length).toBeGreaterThanOrEqual(0.5);
    expect(distinct.size).toBeLessThanOrEqual(31);
    // Kept weights are the ones of largest magnitude, shared within a small error.
    let maxKeptErr = 0;
    for (let i = 0; i < v1.length; i++) if (v1[i] !== 0) maxKeptErr = Math.max(maxKeptErr, Math.abs(v1[i]! - v0[i]!));
    const amax = v0.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
    expect(maxKeptErr).toBeLessThan(amax / 8);
    const x = tf.randomUniform([3, 256], 0, 1, 'float32', 5);
    const [y] = execute(dst, x);
    expect(y!.shape).toEqual([3, 10]);
    tf.dispose([x, y!]);
  });

  it('--skip-existing resumes: finished models are skipped, their outputs untouched', async () => {
    const stamp = (await fs.stat(join(out, 'mlp/small/model.json'))).mtimeMs;
    const r = await runCli([
      'convert',
      zoo,
      '-o',
      out,
      '--mode',
      'compress',
      '--skip-existing',
      '--eval-samples',
      '4',
      '--runs',
      '2',
      '--tolerance',
      '0.9',
    ]);
    expect(r.code).toBe(1); // the corrupt model fails again
    expect(r.stderr).toMatch(/5 model\(s\), 1 to convert \(4 already done\)/);
    const report = JSON.parse(await fs.readFile(join(out, 'report.json'), 'utf8'));
    expect(report.models.filter((m: { status: string }) => m.status === 'skipped')).toHaveLength(4);
    expect((await fs.stat(join(out, 'mlp/small/model.json'))).mtimeMs).toBe(stamp);
  }, 120_000);

  it('writes a self-contained HTML report with its three charts', async () => {
    const html = await fs.readFile(join(out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|(src|href)=["']https?:/);
    expect((html.match(/<svg/g) ?? []).length).toBe(3);
  });

  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(existsSync);
  const noChromium = chromium
    ? ''
    : " (skipped: no /usr/bin/chromium, chromium-browser or google-chrome: Debian's chromium package)";
  it.skipIf(!chromium)(
    `Chromium renders the HTML report's charts${noChromium}`,
    async () => {
      const browser = chromium!;
      const flags = [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        `--user-data-dir=${join(work, 'chrome')}`,
      ];
      const dom = execFileSync(browser, [...flags, '--dump-dom', `file://${join(out, 'report.html')}`], {
        encoding: 'utf8',
        timeout: 60_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      expect((dom.match(/<svg/g) ?? []).length).toBe(3);
      const bars = [...dom.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((m) => Number(m[1])).filter((w) => w > 0);
      expect(bars.length).toBeGreaterThanOrEqual(4);
      const png = join(work, 'report.png');
      execFileSync(
        browser,
        [...flags, `--screenshot=${png}`, '--window-size=1100,1400', `file://${join(out, 'report.html')}`],
        { timeout: 60_000, stdio: 'ignore' },
      );
      // Decode the PNG's pixels and require the chart colours to be on screen.
      const buf = await fs.readFile(png);
      const idat: Buffer[] = [];
      let width = 0,
        bpp = 3;
      for (let off = 8; off < buf.length;) {
        const len = buf.readUInt32BE(off);
        const type = buf.toString('latin1', off + 4, off + 8);
        if (type === 'IHDR') {
          width = buf.readUInt32BE(off + 8);
          bpp = buf[off + 17] === 6 ? 4 : 3; // colour type 6 = RGBA, 2 = RGB (8-bit)
        }
        if (type === 'IDAT') idat.push(buf.subarray(off + 8, off + 8 + len));
        off += 12 + len;
      }
      const raw = inflateSync(Buffer.concat(idat));
      const stride = width * bpp + 1;
      const rows = raw.length / stride;
      // Undo PNG filters (None/Sub/Up/Average/Paeth), then look for the first series colour #3b6fd8.
      const px = Buffer.alloc(rows * width * bpp);
      for (let y = 0; y < rows; y++) {
        const f = raw[y * stride]!;
        for (let i = 0; i < width * bpp; i++) {
          const x = raw[y * stride + 1 + i]!;
          const a = i >= bpp ? px[y * width * bpp + i - bpp]! : 0;
          const b = y > 0 ? px[(y - 1) * width * bpp + i]! : 0;
          const c = i >= bpp && y > 0 ? px[(y - 1) * width * bpp + i - bpp]! : 0;
          const p = a + b - c,
            pa = Math.abs(p - a),
            pb = Math.abs(p - b),
            pc = Math.abs(p - c);
          const pred =
            f === 0
              ? 0
              : f === 1
                ? a
                : f === 2
                  ? b
                  : f === 3
                    ? (a + b) >> 1
                    : pa <= pb && pa <= pc
                      ? a
                      : pb <= pc
                        ? b
                        : c;
          px[y * width * bpp + i] = (x + pred) & 255;
        }
      }
      let blue = 0;
      for (let i = 0; i + 2 < px.length; i += bpp)
        if (Math.abs(px[i]! - 0x3b) < 8 && Math.abs(px[i + 1]! - 0x6f) < 8 && Math.abs(px[i + 2]! - 0xd8) < 8) blue++;
      expect(blue).toBeGreaterThan(500);
    },
    120_000,
  );
});

describe('convert: Ctrl-C mid-batch', () => {
  it('finishes the running model, keeps finished outputs valid, exits 130', async () => {
    const out = join(work, 'out-sigint');
    let sent = false;
    const r = await runCli(['convert', zoo, '-o', out, '--mode', 'compress', '--eval-samples', '2', '--runs', '1'], {
      onSpawn: (p) =>
        p.stderr!.on('data', (d: Buffer) => {
          if (!sent && /converting 0\/5/.test(String(d))) {
            sent = true;
            p.kill('SIGINT');
          }
        }),
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    const report = JSON.parse(await fs.readFile(join(out, 'report.json'), 'utf8'));
    expect(report.models.length).toBeLessThan(5);
    for (const m of report.models.filter((x: { status: string }) => x.status === 'done')) {
      await expect(loadModel(join(out, m.rel, 'model.json'))).resolves.toBeTruthy();
    }
    expect((await listTree(out)).filter((p) => /\.tmp-|tfjs-quant-tmp/.test(p))).toEqual([]);
  }, 120_000);
});

describe('convert --mode int8 --format tfjs with .npy calibration', () => {
  it('writes stock TF.js models that unmodified tfjs loads and that agree with the float model', async () => {
    const { writeNpy } = await import('../../src/io/npy.js');
    const calib = join(work, 'calib');
    await fs.mkdir(calib, { recursive: true });
    // Calibration for mlp/wide (input 'fc1_input', [?, 256]): 4 files of 8 rows each.
    const g = await loadModel(join(zoo, 'mlp/wide/model.json'));
    const input = g.inputs[0]!.name;
    for (let i = 0; i < 4; i++) {
      const x = Float32Array.from({ length: 8 * 256 }, (_, j) => ((i * 31 + j * 7) % 97) / 97);
      await fs.writeFile(join(calib, `${input}-${i}.npy`), writeNpy(x, [8, 256]));
    }
    const out = join(work, 'out-tfjs');
    const r = await runCli([
      'convert',
      join(zoo, 'mlp/wide/model.json'),
      '-o',
      out,
      '--mode',
      'int8',
      '--format',
      'tfjs',
      '--calibration',
      calib,
      '--eval-samples',
      '4',
      '--runs',
      '2',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(await fs.readFile(join(out, 'report.json'), 'utf8'));
    const m = report.models[0];
    expect(m.status).toBe('done');
    expect(m.ratio).toBeGreaterThan(3.5); // uint8 storage of the weights
    // Stock tfjs (not our loader) reads the written files.
    const files = await Promise.all(
      (await fs.readdir(join(out, m.rel))).map(async (name) => ({
        name,
        bytes: new Uint8Array(await fs.readFile(join(out, m.rel, name))),
      })),
    );
    const { loadStock } = await import('../support/model-fixtures.js');
    const stock = await loadStock(files);
    const x = tf.randomUniform([16, 256], 0, 1, 'float32', 3);
    const yq = (stock as tf.LayersModel | tf.GraphModel).predict(x) as tf.Tensor;
    const [yf] = execute(g, x);
    const agree = tf.equal(tf.argMax(yq, 1), tf.argMax(yf!, 1)).sum().dataSync()[0]!;
    expect(agree).toBeGreaterThanOrEqual(14);
    tf.dispose([x, yq, yf!]);
  }, 120_000);
});

describe('convert: globs and --fail-fast (in process)', () => {
  const capture = () => {
    const out: string[] = [],
      err: string[] = [];
    return { io: { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) }, out, err };
  };

  it('a glob selects models by path; folder structure is kept below the glob root', async () => {
    const c = capture();
    const out = join(work, 'out-glob');
    const code = await main(
      ['convert', join(zoo, 'mlp/*/model.json'), '-o', out, '--mode', 'float16', '--eval-samples', '0'],
      c.io,
    );
    expect(code, c.err.join('')).toBe(0);
    const report = JSON.parse(await fs.readFile(join(out, 'report.json'), 'utf8'));
    // The glob root is zoo/mlp (the path up to the first wildcard).
    expect(report.models.map((m: { rel: string }) => m.rel).sort()).toEqual(['small', 'wide']);
    expect(existsSync(join(out, 'wide/model.json'))).toBe(true);
    expect(report.models.find((m: { rel: string }) => m.rel === 'wide').ratio).toBeGreaterThan(1.9);
  }, 60_000);

  it('--fail-fast stops after the first failure (the corrupt model sorts first) and exits 1', async () => {
    const c = capture();
    const out = join(work, 'out-failfast');
    const code = await main(
      ['convert', zoo, '-o', out, '--mode', 'float16', '--fail-fast', '--eval-samples', '0'],
      c.io,
    );
    expect(code).toBe(1);
    const report = JSON.parse(await fs.readFile(join(out, 'report.json'), 'utf8'));
    expect(report.models).toHaveLength(1);
    expect(report.models[0]).toMatchObject({ rel: 'broken/truncated', status: 'failed' });
    expect(existsSync(join(out, 'mlp'))).toBe(false);
  }, 60_000);
});

describe('convert: unreadable models are reported, not fatal', () => {
  it('a model.json that is not JSON, and one that is a directory, fail with a message naming them; exit 1', async () => {
    const dir = join(work, 'unreadable');
    await fs.mkdir(join(dir, 'garbage'), { recursive: true });
    await fs.writeFile(join(dir, 'garbage', 'model.json'), '{"format": "layers-model", "modelTopology": ');
    await fs.mkdir(join(dir, 'weird', 'model.json'), { recursive: true }); // a directory named model.json: not a model
    await fs.mkdir(join(dir, 'ok'), { recursive: true });
    for (const f of await fs.readdir(join(zoo, 'mlp/small')))
      await fs.copyFile(join(zoo, 'mlp/small', f), join(dir, 'ok', f));
    const out: string[] = [],
      err: string[] = [];
    const code = await main(
      ['convert', dir, '-o', join(work, 'out-unreadable'), '--mode', 'float16', '--eval-samples', '0'],
      { stdout: (s) => out.push(s), stderr: (s) => err.push(s) },
    );
    expect(code).toBe(1);
    const report = JSON.parse(await fs.readFile(join(work, 'out-unreadable', 'report.json'), 'utf8'));
    expect(report.models.map((m: { rel: string; status: string }) => `${m.rel}:${m.status}`).sort()).toEqual([
      'garbage:failed',
      'ok:done',
    ]);
    expect(report.models.find((m: { rel: string }) => m.rel === 'garbage').error).toMatch(/garbage[\\/]model\.json/);
  }, 60_000);
});

// `tfjs-quant serve` argument handling: usage errors exit 2, a model that cannot be served
// exits 1 with the reason, both before anything listens.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ModelTree } from './fixtures.js';

let tree: ModelTree;
beforeAll(async () => {
  tree = await ModelTree.create();
});
afterAll(async () => {
  await tree?.dispose();
});

function capture(): {
  io: { stdout: (s: string) => void; stderr: (s: string) => void };
  out: () => string;
  err: () => string;
} {
  let o = '',
    e = '';
  return {
    io: {
      stdout: (s) => {
        o += s;
      },
      stderr: (s) => {
        e += s;
      },
    },
    out: () => o,
    err: () => e,
  };
}

describe('tfjs-quant serve: arguments', () => {
  it('no model, an unknown flag, a bad number → usage error (2); --help → 0', async () => {
    const a = capture();
    expect(await main(['serve'], a.io)).toBe(2);
    expect(a.err()).toMatch(/expected one model directory or config file/);
    const b = capture();
    expect(await main(['serve', 'x', '--batch-size', '4'], b.io)).toBe(2);
    expect(b.err()).toMatch(/unknown option '--batch-size'/);
    const c = capture();
    expect(await main(['serve', 'x', '--max-batch', '0'], c.io)).toBe(2);
    expect(c.err()).toMatch(/--max-batch must be in \[1, 4096\], got 0/);
    const d = capture();
    expect(await main(['serve', '--help'], d.io)).toBe(0);
    expect(d.out()).toMatch(/--batch-timeout-ms/);
  });

  it('a model directory that does not exist → 1, naming it', async () => {
    const a = capture();
    expect(await main(['serve', '/nonexistent/tfjs-quant-model', '--port', '0', '--log-level', 'silent'], a.io)).toBe(
      1,
    );
    expect(a.err()).toMatch(/cannot read \/nonexistent\/tfjs-quant-model \(ENOENT\)/);
  });

  it('a directory without a model, or whose only version does not load → 1, naming the reason', async () => {
    await mkdir(join(tree.root, 'empty'));
    const a = capture();
    expect(await main(['serve', join(tree.root, 'empty'), '--port', '0', '--log-level', 'silent'], a.io)).toBe(1);
    expect(a.err()).toMatch(
      /model 'empty': no version could be loaded from .*empty \(no model.json, and no numbered version directory holding one\)/,
    );
    await mkdir(join(tree.root, 'broken', '1'), { recursive: true });
    await writeFile(join(tree.root, 'broken', '1', 'model.json'), '{"format": "graph-model"');
    const b = capture();
    expect(await main(['serve', join(tree.root, 'broken'), '--port', '0', '--log-level', 'silent'], b.io)).toBe(1);
    expect(b.err()).toMatch(/model 'broken': no version could be loaded from .*broken \(version 1: .*JSON/);
  });
});

// Where each discovered model is written, relative to the output root.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverModels } from '../../src/cli/discover.js';

function tree(paths: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'tfjq-discover-'));
  for (const p of paths) {
    mkdirSync(join(root, p), { recursive: true });
    writeFileSync(join(root, p, 'model.json'), '{}');
  }
  return root;
}

describe('discoverModels: output folders', () => {
  it('one directory keeps its layout (a model at its root goes to the output root)', async () => {
    const root = tree(['', 'sub/a']);
    const t = await discoverModels([root], join(root, '..', 'out-one'));
    expect(t.map((x) => x.rel)).toEqual(['', 'sub/a']);
  });

  it('several model folders side by side each get their own name, not the root and "-2"', async () => {
    const root = tree(['age', 'liveness']);
    const t = await discoverModels([join(root, 'age'), join(root, 'liveness')], join(root, 'out'));
    expect(t.map((x) => x.rel)).toEqual(['age', 'liveness']);
  });

  it('the same folder name twice is told apart with a suffix', async () => {
    const a = tree(['m']),
      b = tree(['m']);
    const t = await discoverModels([join(a, 'm'), join(b, 'm')], join(a, 'out'));
    expect(t.map((x) => x.rel)).toEqual(['m', 'm-2']);
  });
});

// The folders of src/ form layers: no folder imports, directly or through others, a folder that
// imports it back (docs/architecture.md draws the layers). Every relative import counts, type-only
// ones included (a type import ties the folders' meanings together just the same); files directly
// in src/ (the public entry points) are above every folder and are not checked.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The top folder of src/ a file belongs to, or undefined for the files directly in src/. */
function folderOf(file: string): string | undefined {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? parts[0] : undefined;
}

// `import … from '…'`, `export … from '…'` (with or without `type`), `import '…'` and `import('…')`.
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Folder → folder → the import lines that make the edge (relative specifiers only). */
function folderGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    if (!from) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(SRC + sep)) continue;
      const to = folderOf(target);
      if (!to || to === from) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      const edges = graph.get(from)!;
      if (!edges.has(to)) edges.set(to, []);
      edges.get(to)!.push(`${relative(SRC, file)} imports '${spec}'`);
    }
  }
  return graph;
}

/** Strongly connected components of more than one node (Tarjan): each is a set of folders in a cycle. */
function cycles(graph: Map<string, Map<string, unknown>>): string[][] {
  const index = new Map<string, number>(),
    low = new Map<string, number>();
  const stack: string[] = [],
    onStack = new Set<string>(),
    found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  const nodes = new Set([...graph.keys(), ...[...graph.values()].flatMap((e) => [...e.keys()])]);
  for (const v of [...nodes].sort()) if (!index.has(v)) visit(v);
  return found;
}

describe('src/ folders import each other in layers, without cycles', () => {
  it('the cycle finder finds a hand-made cycle and accepts a chain', () => {
    const g = (edges: [string, string][]) => {
      const m = new Map<string, Map<string, unknown>>();
      for (const [a, b] of edges) (m.get(a) ?? m.set(a, new Map()).get(a)!).set(b, true);
      return m;
    };
    expect(
      cycles(
        g([
          ['a', 'b'],
          ['b', 'c'],
          ['c', 'a'],
          ['c', 'd'],
        ]),
      ),
    ).toEqual([['a', 'b', 'c']]);
    expect(
      cycles(
        g([
          ['a', 'b'],
          ['b', 'c'],
          ['a', 'c'],
        ]),
      ),
    ).toEqual([]);
  });

  it('reads the imports of src/ (the runtime reads the model IR; the CLI reaches the runtime)', () => {
    const graph = folderGraph();
    expect(graph.get('runtime')?.get('model')?.length).toBeGreaterThan(0);
    expect(graph.get('cli')?.has('runtime')).toBe(true);
  });

  it('no folder imports a folder that imports it back', () => {
    const graph = folderGraph();
    const found = cycles(graph).map((c) => {
      const inside = new Set(c);
      const lines = c.flatMap((a) =>
        [...(graph.get(a) ?? [])]
          .filter(([b]) => inside.has(b))
          .map(([b, why]) => `  ${a} → ${b}: ${why[0]}${why.length > 1 ? ` (+${why.length - 1} more)` : ''}`),
      );
      return `${c.join(' ⇄ ')}\n${lines.join('\n')}`;
    });
    expect(found, `folders in a cycle:\n${found.join('\n')}`).toEqual([]);
  });
});

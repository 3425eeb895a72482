// The layout rules of STYLE.md, checked on the sources: every file under src/ is at most 400 lines (as
// written and as Prettier formats it), no import circle (type-only imports included), no import runs up
// the layer order, the edge and web paths never reach the libtorch binding, binding/native.ts is the
// only loader of the addon and edge/runtime.ts the only importer of onnxruntime-node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import ts from 'typescript';
import { repoRoot } from '../src/util/paths.js';

const SRC = path.join(repoRoot(), 'src');
const MAX_LINES = 400;

/**
 * The layer order, bottom first: a module may import its own layer and the layers below. Folders in one
 * layer may import each other (the circle test still applies). A new folder must be placed here.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['errors.ts', 'util', 'config'],
  ['binding'],
  ['tensor'],
  ['serialize'],
  ['nn', 'optim', 'testing'],
  ['audio'],
  ['data'],
  ['models'],
  ['distributed'], // above tensor/nn/optim, below methods
  ['methods'],
  ['edge'], // onnxruntime only, never libtorch (checked below)
  ['deploy', 'web'], // deploy: where libtorch models meet ONNX; web: the browser, edge's front-end only
  ['eval'],
  ['cli'],
  ['index.ts'],
];
const LIBTORCH_FREE = ['edge', 'web'];

function sources(dir = SRC, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const rel = (f: string): string => path.relative(SRC, f).split(path.sep).join('/');
const folderOf = (f: string): string => rel(f).split('/')[0]!;
const layerOf = (f: string): number => LAYERS.findIndex((l) => l.includes(folderOf(f)));

/** Every module a file imports (static, type-only, re-exports and dynamic import()), by specifier. */
function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

const files = sources();
const library = files.filter((f) => !f.endsWith('.test.ts'));
/** file → the src files it imports (tests are left out: they may reach anywhere). */
const graph = new Map(
  library.map((f) => [
    f,
    importsOf(f)
      .filter((s) => s.startsWith('.'))
      .map((s) => path.resolve(path.dirname(f), s.replace(/\.js$/, '.ts')))
      .filter((t) => t.startsWith(SRC)),
  ]),
);

test('every file under src/ is at most 400 lines, as written and as Prettier formats it', async () => {
  const long: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const formatted = await prettier.format(text, { ...(await prettier.resolveConfig(f)), filepath: f });
    const [raw, fmt] = [text, formatted].map((t) => t.split('\n').length - (t.endsWith('\n') ? 1 : 0));
    if (raw! > MAX_LINES || fmt! > MAX_LINES) long.push(`${rel(f)}: ${raw} lines, ${fmt} formatted`);
  }
  assert.deepEqual(long, [], `split these files (at most ${MAX_LINES} lines each):\n  ${long.join('\n  ')}`);
});

test('every import resolves to a source file and every folder has a place in the layer order', () => {
  const missing = [...graph].flatMap(([f, ts]) =>
    ts.filter((t) => !graph.has(t)).map((t) => `${rel(f)} imports ${rel(t)}`),
  );
  assert.deepEqual(missing, []);
  const unplaced = [...new Set(library.map(folderOf))].filter((d) => !LAYERS.some((l) => l.includes(d)));
  assert.deepEqual(unplaced, [], 'add these folders to LAYERS in test/layout.test.ts');
});

test('no import runs up the layer order', () => {
  const upward = [...graph].flatMap(([f, targets]) =>
    targets
      .filter((t) => layerOf(t) > layerOf(f))
      .map((t) => `${rel(f)} (${folderOf(f)}) imports ${rel(t)} (${folderOf(t)}, a higher layer)`),
  );
  assert.deepEqual(upward, []);
});

test('no import circle, type-only imports included', () => {
  // Tarjan's strongly connected components: any component of more than one file is a circle
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        onStack.delete(w);
        scc.push(rel(w));
        if (w === v) break;
      }
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(scc.sort());
    }
  };
  for (const f of graph.keys()) if (!index.has(f)) visit(f);
  assert.deepEqual(circles, []);
});

test('edge/ and web/ never reach the libtorch binding; one loader of the addon, one importer of onnxruntime-node', () => {
  const reach = (f: string, seen = new Set<string>()): Set<string> => {
    for (const t of graph.get(f) ?? [])
      if (!seen.has(t)) {
        seen.add(t);
        reach(t, seen);
      }
    return seen;
  };
  const bad = library
    .filter((f) => LIBTORCH_FREE.includes(folderOf(f)))
    .flatMap((f) => [...reach(f)].filter((t) => folderOf(t) === 'binding').map((t) => `${rel(f)} reaches ${rel(t)}`));
  assert.deepEqual(bad, []);
  const ort = library.filter((f) => importsOf(f).includes('onnxruntime-node')).map(rel);
  assert.deepEqual(ort, ['edge/runtime.ts']);
  const loaders = library
    .filter(
      (f) =>
        /\.node['"`]/.test(readFileSync(f, 'utf8')) && /createRequire|process\.dlopen/.test(readFileSync(f, 'utf8')),
    )
    .map(rel);
  assert.deepEqual(loaders, ['binding/native.ts']);
});

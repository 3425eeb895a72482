// Builds the browser sensor into dist/web/ with esbuild (offline, well under a second): one ESM bundle
// per entry of src/web/browser/, the static pages, and onnxruntime-web's wasm runtime files (served by
// the sensor itself: no CDN). Skipped when nothing changed since the last build. The declarations of
// `earmark/web` come from `tsc -p tsconfig.web.json` (scripts/bootstrap.sh runs both).
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EarmarkError } from '../errors.js';

/** Output name → entry file in src/web/browser/. */
export const WEB_ENTRIES: Readonly<Record<string, string>> = {
  'earmark-web': 'sensor.ts', // the app-facing module: import { createSensor } from 'earmark/web'
  demo: 'demo.ts',
  frame: 'frame.ts',
  worker: 'worker.ts',
  'capture-worklet': 'capture-worklet.ts',
  bench: 'bench.ts',
};

const STATIC = ['index.html', 'sensor.html', 'bench.html', 'style.css'];
/** onnxruntime-web's wasm runtime (the only build since 1.19: SIMD, threads optional). */
const ORT_FILES = ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];

/** The package root (this file is dist/src/web/build.js there). */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
}

/** Where the built assets live: <package>/dist/web. */
export function webAssetsDir(): string {
  return path.join(packageRoot(), 'dist', 'web');
}

function ortDir(root: string): string {
  const req = createRequire(path.join(root, 'package.json'));
  // onnxruntime-web's exports map hides package.json; its wasm files are exported by name
  return path.dirname(req.resolve(`onnxruntime-web/${ORT_FILES[1]}`));
}

interface Stamp {
  inputs: string[];
}

function fresh(outDir: string, root: string): boolean {
  const stampFile = path.join(outDir, '.build.json');
  if (!existsSync(stampFile)) return false;
  const built = statSync(stampFile).mtimeMs;
  const { inputs } = JSON.parse(readFileSync(stampFile, 'utf8')) as Stamp;
  return inputs.every((f) => existsSync(path.resolve(root, f)) && statSync(path.resolve(root, f)).mtimeMs <= built);
}

export interface WebBuild {
  dir: string;
  /** False when the previous build was still fresh (or the package ships prebuilt assets only). */
  built: boolean;
  ms: number;
}

/**
 * Bundle the browser sensor into `outDir` (default dist/web) unless it is up to date.
 * @example const { dir } = await buildWeb(); // dist/web/{index.html, sensor.html, earmark-web.js, worker.js, ort/…}
 */
export async function buildWeb(opts: { outDir?: string; force?: boolean } = {}): Promise<WebBuild> {
  const t0 = Date.now();
  const root = packageRoot();
  const outDir = path.resolve(opts.outDir ?? webAssetsDir());
  const src = path.join(root, 'src', 'web', 'browser');
  if (!existsSync(path.join(src, WEB_ENTRIES['earmark-web']!))) {
    // an installed package: no sources, prebuilt assets only
    if (existsSync(path.join(outDir, 'earmark-web.js'))) return { dir: outDir, built: false, ms: 0 };
    throw new EarmarkError(
      'EARMARK_IO',
      `no browser sources in ${src} and no built assets in ${outDir}; ` +
        'reinstall earmark, or run `npm run bootstrap` in a checkout',
    );
  }
  if (!opts.force && fresh(outDir, root)) return { dir: outDir, built: false, ms: Date.now() - t0 };
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (e) {
    throw new EarmarkError(
      'EARMARK_IO',
      `esbuild is missing (${(e as Error).message}); run \`npm ci\` (it is a devDependency)`,
    );
  }
  const result = await esbuild
    .build({
      absWorkingDir: root,
      entryPoints: Object.fromEntries(Object.entries(WEB_ENTRIES).map(([k, f]) => [k, path.join(src, f)])),
      outdir: outDir,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['es2022'],
      // onnxruntime-web's wasm-only build that loads its .mjs/.wasm from env.wasm.wasmPaths (ours, served locally)
      conditions: ['onnxruntime-web-use-extern-wasm'],
      sourcemap: 'linked',
      legalComments: 'none',
      metafile: true,
      logLevel: 'silent',
    })
    .catch((e: Error) => {
      throw new EarmarkError('EARMARK_IO', `esbuild could not bundle src/web/browser: ${e.message}`);
    });
  mkdirSync(path.join(outDir, 'ort'), { recursive: true });
  const inputs = Object.keys(result.metafile.inputs);
  for (const f of STATIC) {
    copyFileSync(path.join(root, 'src', 'web', 'static', f), path.join(outDir, f));
    inputs.push(path.join('src', 'web', 'static', f));
  }
  const ort = ortDir(root);
  for (const f of ORT_FILES) {
    copyFileSync(path.join(ort, f), path.join(outDir, 'ort', f));
    inputs.push(path.relative(root, path.join(ort, f)));
  }
  writeFileSync(path.join(outDir, '.build.json'), JSON.stringify({ inputs } satisfies Stamp) + '\n');
  return { dir: outDir, built: true, ms: Date.now() - t0 };
}

// The packed package works as a dependency: `npm pack` the repository, unpack the tarball into a
// temporary project's node_modules/earmark (no install scripts, so no node-gyp; the native addon is the
// one this checkout built, named by EARMARK_ADDON), then `import('earmark')` there and compile a small
// consumer against the package's own type declarations. The project sits under .earmark-cache/ inside
// the repository so that earmark's dependencies resolve from this checkout's node_modules: no network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/util/paths.js';

const root = repoRoot();
const addon = path.join(root, 'native/build/Release/earmark.node');

const CONSUMER = `import { tensor, tidy, nn, optim, audio, rdal, DeepSpeech2, resolveDeepSpeech2Config, runExperiment, resolveExperimentConfig,
  exportObfuscator, OnnxSession, EarmarkError, type Tensor, type ExperimentReport } from 'earmark';

const x: Tensor = tensor([1, 2, 3]);
const doubled: number = tidy(() => x.mul(2).sum().item());
const layer: nn.Linear = new nn.Linear(3, 2);
const opt = new optim.Adam(layer.parameters(), { lr: 1e-3 });
const model = new DeepSpeech2(resolveDeepSpeech2Config({ numClasses: 4 }));
const report: (o: Parameters<typeof runExperiment>[0]) => Promise<ExperimentReport> = runExperiment;
const methods: readonly string[] = rdal.RDAL_METHODS;
const rate: number = audio.DS2_SPECTROGRAM.sampleRate;
const session: Promise<OnnxSession> = OnnxSession.load('model.onnx');
// @ts-expect-error tensor() takes numbers, not strings
tensor(['a']);
// @ts-expect-error the experiment config is checked: 'fig9' is not an experiment
resolveExperimentConfig('cpu', {}).experiment = 'fig9';
// @ts-expect-error exportObfuscator needs a source and a file
exportObfuscator();
void [doubled, opt, model, report, methods, rate, session, EarmarkError];
`;

test('the packed package imports from a project that has it in node_modules, and its public names are typed', () => {
  const cache = path.join(root, '.earmark-cache');
  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(path.join(cache, 'pack-test-'));
  try {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as { filename: string; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'bin/earmark.js', 'native/binding.gyp'])
      assert.ok(files.includes(f), `the tarball holds ${f}`);
    assert.ok(!files.some((f) => /\.test\.(js|d\.ts)$/.test(f)), 'no compiled tests in the tarball');

    const project = path.join(tmp, 'consumer');
    const pkg = path.join(project, 'node_modules', 'earmark');
    mkdirSync(pkg, { recursive: true });
    execFileSync('tar', ['-xzf', path.join(tmp, packed[0]!.filename), '-C', pkg, '--strip-components=1']);
    writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );

    // import('earmark') at run time: the entry point resolves through "exports" and computes with the addon
    const script = `const m = await import('earmark');
      const t = m.tensor([1, 2, 3]);
      console.log(JSON.stringify({ sum: t.sum().item(), linear: typeof m.nn.Linear, run: typeof m.runExperiment, edge: typeof m.OnnxSession }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: project,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, EARMARK_ADDON: addon },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), {
      sum: 6,
      linear: 'function',
      run: 'function',
      edge: 'function',
    });
    const deep = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', "await import('earmark/dist/src/cli/main.js')"],
      { cwd: project, encoding: 'utf8', timeout: 30_000 },
    );
    assert.notEqual(deep.status, 0, 'modules outside "exports" are not importable by package path');
    assert.match(deep.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/);

    // the public names are typed: a consumer compiles against dist/src/index.d.ts, misuse does not
    writeFileSync(path.join(project, 'consumer.ts'), CONSUMER);
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', project], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(tsc.status, 0, `the consumer does not compile:\n${tsc.stdout}${tsc.stderr}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

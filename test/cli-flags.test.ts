// The CLI's flag tables: every declared flag is in its command's --help, subcommands are real commands
// (`experiment rdal`), the parser fills defaults and applies the declarative checks with messages that
// name the flag and the value, flags map onto nested config overrides, the CLI's lists of choices are the
// library's, and loading the CLI loads no native library. The type-level checks at
// the end are part of the build: if the typing regresses, this file stops compiling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { defineCommand, flagName, helpText, parseFlags, type Command } from '../src/cli/args.js';
import { COMMANDS } from '../src/cli/commands.js';
import { configFlags, configOverrides, mergeOverrides } from '../src/cli/config-flags.js';
import { findCommand, run } from '../src/cli/main.js';
import { EXPERIMENT_NAMES } from '../src/cli/experiment.js';
import { SAFE_PHASE_METHODS } from '../src/cli/obfuscate.js';
import { RDAL_FLAGS, RDAL_METHOD_NAMES, RDAL_PRESET_NAMES } from '../src/cli/rdal-flags.js';
import { EarmarkError } from '../src/errors.js';
import type { ExperimentConfig } from '../src/eval/optin/config.js';
import { repoRoot } from '../src/util/paths.js';

function allCommands(cmds: readonly Command[]): Command[] {
  return cmds.flatMap((c) => [c, ...allCommands(c.subcommands ?? [])]);
}

async function captured(f: () => Promise<number>): Promise<{ rc: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...a: unknown[]) => {
    out.push(a.join(' '));
  };
  console.error = (...a: unknown[]) => {
    err.push(a.join(' '));
  };
  try {
    return { rc: await f(), out: out.join('\n'), err: err.join('\n') };
  } finally {
    [console.log, console.error] = [log, error];
  }
}

test('every declared flag of every command and subcommand appears in its --help', () => {
  const cmds = allCommands(COMMANDS);
  assert.ok(cmds.length >= COMMANDS.length + 4, 'experiment rdal and corpus speech/soundscapes/probe are subcommands');
  for (const cmd of cmds) {
    const help = helpText(cmd);
    for (const key of Object.keys(cmd.flags)) {
      assert.match(
        help,
        new RegExp(`^  --${flagName(key)}\\b`, 'm'),
        `--${flagName(key)} of \`earmark ${cmd.name}\` is in its --help`,
      );
    }
    for (const sub of cmd.subcommands ?? [])
      assert.match(help, new RegExp(`^  ${sub.name}\\b`, 'm'), `${cmd.name} --help lists ${sub.name}`);
  }
});

test('`earmark experiment rdal` is a subcommand of experiment with its own flags', async () => {
  const { cmd, rest } = findCommand(['experiment', 'rdal', '--runs', '2']);
  assert.equal(cmd?.name, 'rdal');
  assert.equal(cmd?.parent?.name, 'experiment');
  assert.deepEqual(rest, ['--runs', '2']);
  assert.equal(findCommand(['experiment', 'fig4']).cmd?.name, 'experiment');
  const r = await captured(() => run(['experiment', 'rdal', '--help']));
  assert.equal(r.rc, 0);
  assert.match(r.out, /^earmark experiment rdal \[flags\]\n/);
  assert.match(r.out, /--methods <list of baseline\|naive\|rdal\|rdal-m>/);
  const bad = await captured(() => run(['experiment', 'rdal', '--methods', 'rdal,nope']));
  assert.equal(bad.rc, 2, 'a usage error');
  assert.match(
    bad.err,
    /^earmark experiment rdal: --methods: unknown value\(s\) 'nope'; choose from baseline, naive, rdal, rdal-m$/,
  );
});

const dir = mkdtempSync(path.join(tmpdir(), 'earmark-flags-'));
const file = path.join(dir, 'a.txt');
writeFileSync(file, 'x');
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const probe = defineCommand({
  name: 'probe-flags',
  summary: 'a command to test the parser with',
  args: [{ name: 'name', description: 'an optional argument' }],
  flags: {
    splitSeed: { type: 'int', description: 'an integer', default: 0, min: 0, max: 9 },
    rate: { type: 'number', description: 'a number' },
    mode: { type: 'string', choices: ['a', 'b'], description: 'a choice', default: 'a' },
    input: { type: 'string', description: 'an existing file', exists: 'file' },
    folder: { type: 'string', description: 'an existing folder', exists: 'dir' },
    names: { type: 'list', description: 'a list' },
    keep: { type: 'boolean', description: 'a switch', default: true },
    need: { type: 'string', description: 'must be given', required: true },
  },
  async run(o) {
    return o.splitSeed;
  },
});

function refused(argv: string[], pattern: RegExp): void {
  assert.throws(
    () => parseFlags(probe, argv),
    (e: unknown) => e instanceof EarmarkError && e.code === 'EARMARK_BAD_ARGUMENT' && pattern.test(e.message),
  );
}

test('parseFlags: kebab-case names, defaults, --no-<flag>, lists, and every declarative check', async () => {
  const { flags, positionals } = parseFlags(probe, [
    'x',
    '--split-seed=3',
    '--rate',
    '0.5',
    '--names',
    'p, q,',
    '--no-keep',
    '--need',
    'n',
    '--input',
    file,
    '--folder',
    dir,
  ]);
  assert.deepEqual(flags, {
    splitSeed: 3,
    rate: 0.5,
    names: ['p', 'q'],
    keep: false,
    need: 'n',
    input: file,
    folder: dir,
    mode: 'a',
  });
  assert.deepEqual(positionals, ['x']);
  assert.equal(await probe.run({ need: 'n' }, []), 0, 'run() fills defaults for an untyped caller');
  refused(['--need', 'n', '--split-seed', '1.5'], /--split-seed must be an integer, got '1.5'/);
  refused(['--need', 'n', '--split-seed', '12'], /--split-seed must be from 0 to 9, got 12/);
  refused(['--need', 'n', '--split-seed', '-1'], /--split-seed must be from 0 to 9, got -1/);
  refused(['--need', 'n', '--rate', 'fast'], /--rate must be a number, got 'fast'/);
  refused(['--need', 'n', '--mode', 'c'], /--mode must be one of a, b, got 'c'/);
  refused([], /--need is required/);
  refused(['--need'], /--need needs a value/);
  refused(
    ['--need', '--keep'],
    /--need needs a value .*got the flag --keep; a value that starts with -- is written --need=--keep/,
  );
  refused(['--need', 'n', '--speed', '2'], /unknown flag --speed for `earmark probe-flags`/);
  refused(['--need', 'n', '--mdoe', 'a'], /unknown flag --mdoe .*\(did you mean --mode\?\)/);
  refused(['--need', 'n', '--keep=maybe'], /--keep is a switch: give --keep or --no-keep/);
  assert.equal(parseFlags(probe, ['--help']).help, true);
  // paths and positional arguments: checked by prepare(), after every value
  const prepared = (argv: string[]): Promise<unknown> => {
    const p = parseFlags(probe, argv);
    return probe.prepare(p.flags, p.positionals, p.rest);
  };
  const usage = (pattern: RegExp) => (e: unknown) =>
    e instanceof EarmarkError && e.code === 'EARMARK_BAD_ARGUMENT' && pattern.test(e.message);
  await assert.rejects(
    prepared(['--need', 'n', '--input', path.join(dir, 'none.txt')]),
    usage(/--input: '.*none\.txt' does not exist \(no such file\); check the path/),
  );
  await assert.rejects(prepared(['--need', 'n', '--input', dir]), usage(/--input: '.*' is a folder, not a file/));
  await assert.rejects(
    prepared(['--need', 'n', '--folder', file]),
    usage(/--folder: '.*a\.txt' is a file, not a folder/),
  );
  await assert.rejects(
    prepared(['--need', 'n', 'x', 'y']),
    usage(/unexpected argument 'y': `earmark probe-flags` takes <name> only/),
  );
  await assert.rejects(
    prepared(['--need', 'n', '--', 'ls']),
    usage(/`earmark probe-flags` takes nothing after `--` \(got 'ls'\)/),
  );
});

test('a flag of a sibling subcommand names the subcommand that takes it', () => {
  const corpus = COMMANDS.find((c) => c.name === 'corpus')!;
  const speech = corpus.subcommands!.find((c) => c.name === 'speech')!;
  assert.throws(() => parseFlags(speech, ['--snr', '3']), /--snr: only for `earmark corpus soundscapes`, not `speech`/);
});

test('flags map onto nested config overrides, on top of a config file', () => {
  assert.deepEqual(configOverrides(RDAL_FLAGS, { seed: 3, period: 5, runs: 2, momentum: undefined }), {
    train: { seed: 3, period: 5, periodMask: 5 },
  });
  const file = { train: { seed: 1, lr: 0.1 }, model: { latent: 8 } };
  assert.deepEqual(mergeOverrides(file, { train: { seed: 2 } }), { train: { seed: 2, lr: 0.1 }, model: { latent: 8 } });
  assert.deepEqual(file.train, { seed: 1, lr: 0.1 }, 'the file object is not changed');
});

test("the CLI's own lists of choices are the library's (kept apart so that --help needs no libtorch)", async () => {
  const { EXPERIMENTS } = await import('../src/eval/optin/config.js');
  const { RDAL_METHODS, RDAL_PRESETS } = await import('../src/methods/rdal/config.js');
  const { PHASE_METHODS } = await import('../src/edge/synthesis.js');
  assert.deepEqual([...EXPERIMENT_NAMES], Object.keys(EXPERIMENTS));
  assert.deepEqual([...RDAL_METHOD_NAMES], [...RDAL_METHODS]);
  assert.deepEqual([...RDAL_PRESET_NAMES].sort(), Object.keys(RDAL_PRESETS).sort());
  assert.deepEqual(
    [...SAFE_PHASE_METHODS],
    PHASE_METHODS.filter((m) => m !== 'unsafe-original-phase'),
  );
});

test('loading the CLI loads neither libtorch nor onnxruntime: help and usage errors answer at once', () => {
  const main = pathToFileURL(path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js')).href;
  const script = `import { createRequire } from 'node:module'; await import(${JSON.stringify(main)});
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify(loaded.filter((f) => f.endsWith('.node') || f.includes('onnxruntime'))));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), []);
});

// ---- compile-time checks (nothing runs here) ----
function typeChecks(): void {
  configFlags<ExperimentConfig>()({
    // @ts-expect-error not a key of ExperimentConfig
    a: { type: 'number', description: '', config: 'obfuscatorTrain.lambdaQ' },
  });
  configFlags<ExperimentConfig>()({
    // @ts-expect-error a string flag cannot set a number
    b: { type: 'string', description: '', config: 'obfuscatorTrain.lambdaP' },
  });
  defineCommand({
    name: 'x',
    summary: '',
    flags: {
      n: { type: 'int', description: '', default: 1 },
      m: { type: 'string', choices: ['p', 'q'], description: '' },
    },
    async run(o) {
      const n: number = o.n;
      // @ts-expect-error a flag without a default may be missing
      const m: 'p' | 'q' = o.m;
      // @ts-expect-error no such flag
      void o.other;
      void n;
      void m;
    },
  });
}
void typeChecks;

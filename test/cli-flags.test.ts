// The CLI's flag tables: every declared flag is in its command's --help, subcommands are real commands
// (`experiment rdal`), the parser fills defaults and applies the declarative checks with messages that
// name the flag and the value, and flags map onto nested config overrides. The type-level checks at
// the end are part of the build: if the typing regresses, this file stops compiling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineCommand, flagName, helpText, parseFlags, type Command } from '../src/cli/args.js';
import { COMMANDS } from '../src/cli/commands.js';
import { configFlags, configOverrides, mergeOverrides } from '../src/cli/config-flags.js';
import { findCommand, run } from '../src/cli/main.js';
import { RDAL_FLAGS } from '../src/cli/rdal-flags.js';
import { EarmarkError } from '../src/errors.js';
import type { ExperimentConfig } from '../src/eval/optin/config.js';

function allCommands(cmds: readonly Command[]): Command[] {
  return cmds.flatMap((c) => [c, ...allCommands(c.subcommands ?? [])]);
}

async function captured(f: () => Promise<number>): Promise<{ rc: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...a: unknown[]) => { out.push(a.join(' ')); };
  console.error = (...a: unknown[]) => { err.push(a.join(' ')); };
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
      assert.match(help, new RegExp(`^  --${flagName(key)}\\b`, 'm'), `--${flagName(key)} of \`earmark ${cmd.name}\` is in its --help`);
    }
    for (const sub of cmd.subcommands ?? []) assert.match(help, new RegExp(`^  ${sub.name}\\b`, 'm'), `${cmd.name} --help lists ${sub.name}`);
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
  assert.match(r.out, /^earmark experiment rdal\n/);
  assert.match(r.out, /--methods <list of baseline\|naive\|rdal\|rdal-m>/);
  const bad = await captured(() => run(['experiment', 'rdal', '--methods', 'rdal,nope']));
  assert.equal(bad.rc, 1);
  assert.match(bad.err, /earmark experiment rdal: --methods: unknown value\(s\) 'nope'; choose from baseline, naive, rdal, rdal-m/);
});

const dir = mkdtempSync(path.join(tmpdir(), 'earmark-flags-'));
const file = path.join(dir, 'a.txt');
writeFileSync(file, 'x');
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const probe = defineCommand({
  name: 'probe-flags',
  summary: 'a command to test the parser with',
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
  assert.throws(() => parseFlags(probe, argv), (e: unknown) => e instanceof EarmarkError && e.code === 'EARMARK_BAD_ARGUMENT' && pattern.test(e.message));
}

test('parseFlags: kebab-case names, defaults, --no-<flag>, lists, and every declarative check', async () => {
  const { flags, positionals } = parseFlags(probe, ['x', '--split-seed=3', '--rate', '0.5', '--names', 'p, q,', '--no-keep', '--need', 'n', '--input', file, '--folder', dir]);
  assert.deepEqual(flags, { splitSeed: 3, rate: 0.5, names: ['p', 'q'], keep: false, need: 'n', input: file, folder: dir, mode: 'a' });
  assert.deepEqual(positionals, ['x']);
  assert.equal(await probe.run({ need: 'n' }, []), 0, 'run() fills defaults for an untyped caller');
  refused(['--need', 'n', '--split-seed', '1.5'], /--split-seed must be an integer, got '1.5'/);
  refused(['--need', 'n', '--split-seed', '12'], /--split-seed must be at most 9, got 12/);
  refused(['--need', 'n', '--split-seed', '-1'], /--split-seed must be at least 0, got -1/);
  refused(['--need', 'n', '--rate', 'fast'], /--rate must be a number, got 'fast'/);
  refused(['--need', 'n', '--mode', 'c'], /--mode must be one of a, b, got 'c'/);
  refused(['--need', 'n', '--input', path.join(dir, 'none.txt')], /--input: no file at '.*none\.txt'/);
  refused(['--need', 'n', '--input', dir], /--input: '.*' is not a file/);
  refused(['--need', 'n', '--folder', file], /--folder: '.*a\.txt' is not a folder/);
  refused([], /--need is required/);
  refused(['--need'], /--need needs a value/);
  refused(['--need', 'n', '--speed', '2'], /unknown flag --speed for `earmark probe-flags`/);
  assert.equal(parseFlags(probe, ['--help']).help, true);
});

test('a flag of a sibling subcommand names the subcommand that takes it', () => {
  const corpus = COMMANDS.find((c) => c.name === 'corpus')!;
  const speech = corpus.subcommands!.find((c) => c.name === 'speech')!;
  assert.throws(() => parseFlags(speech, ['--snr', '3']), /--snr: only for `earmark corpus soundscapes`, not `speech`/);
});

test('flags map onto nested config overrides, on top of a config file', () => {
  assert.deepEqual(configOverrides(RDAL_FLAGS, { seed: 3, period: 5, runs: 2, momentum: undefined }),
    { train: { seed: 3, period: 5, periodMask: 5 } });
  const file = { train: { seed: 1, lr: 0.1 }, model: { latent: 8 } };
  assert.deepEqual(mergeOverrides(file, { train: { seed: 2 } }), { train: { seed: 2, lr: 0.1 }, model: { latent: 8 } });
  assert.deepEqual(file.train, { seed: 1, lr: 0.1 }, 'the file object is not changed');
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
    name: 'x', summary: '', flags: { n: { type: 'int', description: '', default: 1 }, m: { type: 'string', choices: ['p', 'q'], description: '' } },
    async run(o) {
      const n: number = o.n;
      // @ts-expect-error a flag without a default may be missing
      const m: 'p' | 'q' = o.m;
      // @ts-expect-error no such flag
      void o.other;
      void n; void m;
    },
  });
}
void typeChecks;

// The sweep's grid (issue 14): the obfuscator settings a privacy–utility frontier is traced over (λ_p, the
// obfuscator's width, its epochs, the deployed window (W, M), the generator's norm and the obfuscator's training
// seed), from flags or a JSON file, validated, expanded to points (their cartesian product), each with a folder
// name, a config and the config's fingerprint (what a resumed sweep compares before it reuses a point).
import { readFileSync } from 'node:fs';
import { fingerprint } from '../../config/fingerprint.js';
import { EarmarkError } from '../../errors.js';
import { deployedWindow } from '../../methods/obfuscator-window.js';
import type { GeneratorNorm } from '../../models/cyclegan-vc2.js';
import type { ExperimentConfig } from '../optin/config.js';

/**
 * A deployed window: W frames kept per window, M frames of context on each side. The obfuscator is
 * trained on crops of W + 2M frames with the loss on the centre W (ObfuscatorTrainConfig.contextFrames).
 */
export interface SweepWindow {
  w: number;
  m: number;
}

/** The values each setting takes; a point is one value of every list. An empty list keeps the base config's value. */
export interface SweepGrid {
  lambdaP: number[];
  /** The obfuscator's channels C (its width). */
  width: number[];
  /** Obfuscator training epochs. */
  epochs: number[];
  window: SweepWindow[];
  /**
   * The obfuscator's norm: 'instance' (the paper's InstanceNorm, statistics over the window's time axis) or
   * 'time-local' (never mixes time steps: the short-window variant). Empty: the base config's.
   */
  norm: GeneratorNorm[];
  /**
   * The obfuscator's training seeds (obfuscatorTrain.seed, integers >= 0): each point is trained once per seed, to
   * show the training noise the 95% intervals (test sampling only) leave out. The seed moves the obfuscator's
   * initial weights, warm-up, crops and batches and the point's own attackers (obfuscatorSeeds in
   * eval/optin/config.ts), never the shared stages. Empty: the base config's.
   */
  seed: number[];
}

/** The default grid: λ_p ∈ {0.1, 0.3, 1, 3, 10}, everything else from the base config (the CPU preset). */
export const SWEEP_GRID_DEFAULTS: SweepGrid = {
  lambdaP: [0.1, 0.3, 1, 3, 10],
  width: [],
  epochs: [],
  window: [],
  norm: [],
  seed: [],
};

export const GENERATOR_NORMS: readonly GeneratorNorm[] = ['instance', 'time-local'];

/**
 * The sweep's own layer at the CPU preset, under --config and the flags, to bring five points, the baselines and
 * the shared stages under an hour on two cores (results/sweep-fig4: 58.6 min on the idle machine; see docs/sweep.md). Each point keeps the evidence protocol's judged attackers:
 * T, the ignorant attackers and the informed attackers on both shipped formats (frames and re-analysed PCM) on the
 * speaker-disjoint protocol, and the fresh inversion attacker of the deobfuscator's size. Left to single
 * experiments: the informed attackers of the closed-set protocol (its clean and ignorant rows stay), McAdams's
 * closed-set rows, the larger inversion network, the int8 edge stage and the verification baseline. An attribute
 * attacked on the closed set alone (fig3b's speaker; any attribute on a corpus without a speaker-disjoint protocol)
 * keeps its closed-set informed attackers (informedFormats, eval/optin/attacks.ts).
 */
export const SWEEP_CPU_LAYER = {
  attack: { informed: { 'speaker-disjoint': ['frames', 'pcm'], 'closed-set': [] } },
  inversion: { networks: [{ name: 'deobfuscator-size', channels: 0, residualBlocks: 0 }] },
  edge: { int8: 'none' },
  baselines: { verification: false },
  // four obfuscator epochs instead of the experiment's eight (`--epochs 8` restores them)
  obfuscatorTrain: { epochs: 4 },
} as const;

/** One point of the grid: the value of every setting (undefined: the base config's). */
export interface SweepPoint {
  /** Folder name, e.g. 'lp1-c64-e8-w128m16' (settings left at the base config are omitted). */
  id: string;
  lambdaP?: number;
  width?: number;
  epochs?: number;
  window?: SweepWindow;
  norm?: GeneratorNorm;
  /** obfuscatorTrain.seed; the id ends in `-s<seed>`. */
  seed?: number;
}

const GRID_KEYS = Object.keys(SWEEP_GRID_DEFAULTS) as (keyof SweepGrid)[];

/**
 * A grid from a JSON object ({ "lambdaP": [0.1, 1], "width": [32], "epochs": [8], "window": [[32, 4]],
 * "norm": ["instance", "time-local"], "seed": [0, 1, 2] });
 * missing keys take `defaults`; `where` names the source in errors.
 * @example parseGrid({ lambdaP: [1, 3], window: [[32, 4]] }, 'grid.json')
 */
export function parseGrid(v: unknown, where: string, defaults: SweepGrid = SWEEP_GRID_DEFAULTS): SweepGrid {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw gridError(where, 'the top level must be an object', v);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(GRID_KEYS as string[]).includes(k))
      throw gridError(where, `unknown key '${k}'; known keys: ${GRID_KEYS.join(', ')}`, k);
  }
  const nums = (k: 'lambdaP' | 'width' | 'epochs' | 'seed', ok: (x: number) => boolean, want: string): number[] => {
    const x = o[k];
    if (x === undefined) return defaults[k];
    if (!Array.isArray(x) || !x.every((e) => typeof e === 'number' && ok(e)))
      throw gridError(where, `'${k}' must be a list of ${want}`, x);
    return x as number[];
  };
  const window = o['window'] === undefined ? defaults.window : parseWindows(o['window'], where);
  const norm = o['norm'] === undefined ? defaults.norm : parseNorms(o['norm'], where);
  const grid: SweepGrid = {
    lambdaP: nums('lambdaP', (x) => Number.isFinite(x) && x >= 0, 'numbers >= 0'),
    width: nums('width', (x) => Number.isInteger(x) && x >= 4 && x % 4 === 0, 'integers >= 4, multiples of 4'),
    epochs: nums('epochs', (x) => Number.isInteger(x) && x >= 1, 'integers >= 1'),
    window,
    norm,
    seed: nums('seed', isSeed, 'integers >= 0'),
  };
  for (const k of GRID_KEYS) {
    const keys = grid[k].map((x) => JSON.stringify(x));
    if (new Set(keys).size !== keys.length) throw gridError(where, `'${k}' lists a value twice`, grid[k]);
  }
  return grid;
}

/** Windows as [W, M] pairs or { w, m } objects; W and W + 2M multiples of 4, M >= 0. */
function parseWindows(x: unknown, where: string): SweepWindow[] {
  const want = 'a list of windows [W, M] or { "w": W, "m": M }: W >= 4 and W + 2M multiples of 4, M >= 0';
  if (!Array.isArray(x)) throw gridError(where, `'window' must be ${want}`, x);
  return x.map((e: unknown) => {
    const pair = Array.isArray(e)
      ? e
      : e !== null && typeof e === 'object'
        ? [(e as SweepWindow).w, (e as SweepWindow).m]
        : [];
    const [w, m] = pair as number[];
    const ok =
      pair.length === 2 &&
      Number.isInteger(w) &&
      Number.isInteger(m) &&
      w! >= 4 &&
      m! >= 0 &&
      w! % 4 === 0 &&
      (w! + 2 * m!) % 4 === 0;
    if (!ok) throw gridError(where, `'window' must be ${want}`, e);
    return { w: w!, m: m! };
  });
}

function parseNorms(x: unknown, where: string): GeneratorNorm[] {
  const ok = Array.isArray(x) && x.every((e) => GENERATOR_NORMS.includes(e as GeneratorNorm));
  if (!ok) throw gridError(where, `'norm' must be a list of ${GENERATOR_NORMS.map((n) => `'${n}'`).join(', ')}`, x);
  return x as GeneratorNorm[];
}

const isSeed = (x: number): boolean => Number.isInteger(x) && x >= 0;

/** Seeds from a flag value ('0,1,2'): integers >= 0, none twice. */
export function parseSeedList(s: string, flag = 'seeds'): number[] {
  const parts = s
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const xs = parts.map(Number);
  if (!parts.length || !xs.every(isSeed))
    throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--${flag} must list integers >= 0 (e.g. 0,1,2), got '${s}'`);
  if (new Set(xs).size !== xs.length)
    throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--${flag} lists a seed twice, got '${s}'`);
  return xs;
}

/** Norms from a flag value ('instance,time-local'). */
export function parseNormList(s: string, flag = 'norm'): GeneratorNorm[] {
  return parseNorms(
    s.split(',').map((p) => p.trim()),
    `--${flag}`,
  );
}

function gridError(where: string, what: string, got: unknown): EarmarkError {
  return new EarmarkError('EARMARK_CONFIG', `${where}: ${what} (got ${JSON.stringify(got)})`);
}

/** A grid from a JSON file, validated (errors name the file and the key). */
export function readGridFile(file: string): SweepGrid {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new EarmarkError('EARMARK_CONFIG', `cannot read the sweep grid ${file}: ${(e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new EarmarkError('EARMARK_CONFIG', `${file} is not JSON: ${(e as Error).message}`);
  }
  return parseGrid(v, file);
}

/** A comma-separated flag value as numbers ('0.1,0.3,1'); `flag` names it in errors. */
export function parseNumberList(s: string, flag: string): number[] {
  const parts = s
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const out = parts.map(Number);
  if (!parts.length || out.some((x) => !Number.isFinite(x))) {
    throw new EarmarkError(
      'EARMARK_BAD_ARGUMENT',
      `--${flag} must be a comma-separated list of numbers (e.g. 0.1,0.3,1), got '${s}'`,
    );
  }
  return out;
}

/** Windows from a flag value 'W:M,W:M' (e.g. '128:16,32:4'). */
export function parseWindowList(s: string, flag = 'window'): SweepWindow[] {
  const pairs = s.split(',').map((p) => p.trim().split(':').map(Number));
  if (pairs.some((p) => p.length !== 2))
    throw new EarmarkError(
      'EARMARK_BAD_ARGUMENT',
      `--${flag} must be W:M pairs separated by commas (e.g. 128:16,32:4), got '${s}'`,
    );
  return parseWindows(pairs, `--${flag}`);
}

const num = (x: number): string => String(x).replace('.', 'p');

/**
 * Every point of the grid (the cartesian product, λ_p varying fastest and the seed slowest, so that a sweep
 * cut short has whole frontiers of its first seeds), each with its folder name.
 */
export function expandGrid(g: SweepGrid): SweepPoint[] {
  const or = <T>(xs: T[]): (T | undefined)[] => (xs.length ? xs : [undefined]);
  const out: SweepPoint[] = [];
  // a grid from before the norm or seed axis (a resumed sweep.json) has no 'norm' or 'seed'
  for (const seed of or(g.seed ?? []))
    for (const norm of or(g.norm ?? []))
      for (const window of or(g.window))
        for (const epochs of or(g.epochs))
          for (const width of or(g.width))
            for (const lambdaP of or(g.lambdaP)) out.push(namedPoint({ lambdaP, width, epochs, window, norm, seed }));
  return out;
}

/** A point with its folder name, e.g. 'lp1-c64-e8-w128m16-time-local-s2' (settings left undefined are omitted). */
function namedPoint(v: Omit<SweepPoint, 'id'>): SweepPoint {
  const id = [
    v.lambdaP === undefined ? '' : `lp${num(v.lambdaP)}`,
    v.width === undefined ? '' : `c${v.width}`,
    v.epochs === undefined ? '' : `e${v.epochs}`,
    v.window === undefined ? '' : `w${v.window.w}m${v.window.m}`,
    v.norm ?? '',
    v.seed === undefined ? '' : `s${v.seed}`,
  ]
    .filter(Boolean)
    .join('-');
  const set = Object.entries(v).filter(([, x]) => x !== undefined);
  return { id: id || 'base', ...Object.fromEntries(set) };
}

/** A point's experiment config: the base config with the point's settings (baselines off: the sweep judges them once; no int8). */
export function pointConfig(base: ExperimentConfig, p: SweepPoint): ExperimentConfig {
  const t = base.obfuscatorTrain;
  return {
    ...base,
    obfuscator: {
      ...base.obfuscator,
      ...(p.width === undefined ? {} : { channels: p.width }),
      // 'instance' is the unset default, so such a point keeps the fingerprint of one made before the norm axis
      ...(p.norm === undefined ? {} : { norm: p.norm === 'instance' ? undefined : p.norm }),
    },
    obfuscatorTrain: {
      ...t,
      ...(p.lambdaP === undefined ? {} : { lambdaP: p.lambdaP }),
      ...(p.epochs === undefined ? {} : { epochs: p.epochs }),
      // a point of the base config's seed (0 by default) keeps the fingerprint of the point made without the axis
      ...(p.seed === undefined ? {} : { seed: p.seed }),
      // a window point trains for the window it deploys, through the deployed rule on ~96-frame crops
      ...(p.window === undefined
        ? {}
        : {
            cropFrames: p.window.w,
            contextFrames: p.window.m,
            windowsPerCrop: p.window.m > 0 ? Math.max(1, Math.round(96 / p.window.w)) : undefined,
          }),
    },
    baselines: { adr: false, mcadams: false, verification: false },
    edge: { int8: 'none' },
  };
}

/** The window a point is deployed with (methods/obfuscator-window.ts deployedWindow), as kept frames W and context M. */
export function pointWindow(c: ExperimentConfig): SweepWindow {
  // a point trained without context deploys the edge default: 128 frames with M = 16, i.e. 96:16
  const d = deployedWindow(c.obfuscatorTrain);
  return { w: d.windowFrames - 2 * d.lookaheadFrames, m: d.lookaheadFrames };
}

/**
 * The algorithmic latency in ms of streaming with kept W and context M (the edge's windowed rule with
 * windows of W + 2M frames, src/edge/obfuscate.ts): ((W + M)·hop + nFft + chunk) samples, at 16 kHz with hop 160,
 * nFft 320 and chunks of 320 samples (20 ms): 1160 ms for today's windows of 128 frames with M = 16.
 * @example latencyMs({ w: 8, m: 2 }) // 140
 */
export function latencyMs(win: SweepWindow, hop = 160, nFft = 320, chunk = 320, sampleRate = 16000): number {
  return (((win.w + win.m) * hop + nFft + chunk) / sampleRate) * 1000;
}

/** The fingerprint of everything that makes a point's numbers (the report's looks and examples aside). */
export function pointFingerprint(c: ExperimentConfig): string {
  const { reportExamples: _r, ...rest } = c;
  return fingerprint(rest);
}

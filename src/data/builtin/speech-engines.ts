// The speech corpus's engine helpers: per-clip prosody jitter and the Praat script that renders the
// emotions, espeak-ng's private data folder (stock voices plus the seeded twins' variants), and festival
// batches (diphone voices, and the full-context labels hts_engine renders).
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EarmarkError } from '../../errors.js';
import { CorpusToolError, runTool, type ToolCommands } from './tools.js';
import { hashString, Rng } from './seeded.js';
import type { SpeakerSpec } from './voices.js';

/** Per-clip uniform jitter (relative for the factors, dB for the level), so no class has a constant value. */
export const CLIP_JITTER = { pitch: 0.04, range: 0.08, duration: 0.04, levelDb: 1.5 };

/** One clip's prosody jitter and Praat seed, from (seed, speaker, emotion, sentence). */
export function clipJitter(
  seed: number,
  k: { speaker: { id: string }; emotion: string; sentence: string },
): { pitch: number; range: number; duration: number; levelDb: number; praatSeed: number } {
  const key = hashString(['clip', k.speaker.id, k.emotion, k.sentence].join('/'), seed);
  const r = new Rng(key);
  return {
    pitch: 1 + r.uniform(-CLIP_JITTER.pitch, CLIP_JITTER.pitch),
    range: 1 + r.uniform(-CLIP_JITTER.range, CLIP_JITTER.range),
    duration: 1 + r.uniform(-CLIP_JITTER.duration, CLIP_JITTER.duration),
    levelDb: r.uniform(-CLIP_JITTER.levelDb, CLIP_JITTER.levelDb),
    praatSeed: key & 0x7fffffff,
  };
}

// One Praat process renders a table of clips; each clip reseeds Praat's generator first, so its output
// does not depend on which other clips share the process. Peak 0.5 leaves headroom before sox.
export const PRAAT_SCRIPT = `form Emotion batch
  sentence jobs
endform
t = Read Table from tab-separated file: jobs$
n = Get number of rows
for i to n
  selectObject: t
  infile$ = Get value: i, "infile"
  outfile$ = Get value: i, "outfile"
  seed = Get value: i, "seed"
  pf = Get value: i, "pitch"
  rf = Get value: i, "range"
  df = Get value: i, "duration"
  s = Read from file: infile$
  p = To Pitch: 0, 60, 500
  med = Get quantile: 0, 0, 0.5, "Hertz"
  if med = undefined
    med = 0
  endif
  # Change gender refuses a range expansion that would push the lowest F0 below 0 Hz: halve the
  # expansion until it is accepted (deterministic, so the same clip always gets the same factor).
  r = s
  attempt = 0
  while r = s and attempt < 12
    random_initializeWithSeedUnsafelyButPredictably: seed
    selectObject: s
    nocheck Change gender: 60, 500, 1.0, med * pf, rf, df
    r = selected ("Sound")
    if r = s
      rf = 1 + (rf - 1) / 2
    endif
    attempt += 1
  endwhile
  if r = s
    exitScript: "Change gender failed on ", infile$
  endif
  Scale peak: 0.5
  Save as 32-bit WAV file: outfile$
  removeObject: s, p, r
endfor
removeObject: t
`;

/** The folder espeak-ng reads its data from (`espeak-ng --version` prints it). */
export async function espeakDataDir(command: string): Promise<string> {
  const { stdout } = await runTool('espeakNg', command, ['--version']);
  const m = /Data at:\s*(.+)\s*$/.exec(stdout.toString().trim());
  if (!m)
    throw new EarmarkError(
      'EARMARK_IO',
      `espeak-ng: cannot find its data folder in \`${command} --version\` output: ${stdout.toString().trim()}`,
    );
  return m[1]!.trim();
}

/** `<dir>/espeak-ng-data`: symlinks to every stock entry, plus the twins' generated variant files. */
export async function privateEspeakData(stock: string, dir: string, speakers: SpeakerSpec[]): Promise<void> {
  const data = path.join(dir, 'espeak-ng-data');
  const variants = path.join(data, 'voices', '!v');
  await mkdir(variants, { recursive: true });
  for (const e of await readdir(stock)) if (e !== 'voices') await symlink(path.join(stock, e), path.join(data, e));
  for (const e of await readdir(path.join(stock, 'voices')))
    if (e !== '!v') await symlink(path.join(stock, 'voices', e), path.join(data, 'voices', e));
  for (const e of await readdir(path.join(stock, 'voices', '!v')))
    await symlink(path.join(stock, 'voices', '!v', e), path.join(variants, e));
  for (const s of speakers) {
    if (s.voice.engine === 'espeak-ng' && s.voice.variantFile !== undefined)
      await writeFile(path.join(variants, s.voice.variant), s.voice.variantFile);
  }
}

function scmString(text: string): string {
  return '"' + text.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** One festival process synthesises all sentences for a diphone voice (start-up is ~0.3 s). */
export async function festivalBatch(
  tools: ToolCommands,
  work: string,
  voice: string,
  items: { text: string; wav: string }[],
): Promise<void> {
  const script = path.join(work, `festival-${voice}.scm`);
  const body = items.map(
    (it) =>
      `(set! u (Utterance Text ${scmString(it.text)}))\n(utt.synth u)\n(utt.save.wave u ${scmString(it.wav)} 'riff)`,
  );
  await writeFile(script, [`(voice_${voice})`, ...body].join('\n') + '\n');
  await runFestival(tools, script, work);
}

/** Festival's SLT HTS front end writes full-context labels; hts_engine then renders every warp of them. */
export async function dumpHtsLabels(
  tools: ToolCommands,
  work: string,
  sentences: readonly { id: string; text: string }[],
): Promise<void> {
  await mkdir(path.join(work, 'hts'), { recursive: true });
  const script = path.join(work, 'hts-labels.scm');
  const body = sentences.map(
    (t) =>
      `(set! u (Utterance Text ${scmString(t.text)}))\n(utt.synth u)\n` +
      `(set! fd (fopen ${scmString(path.join(work, 'hts', `${t.id}.lab`))} "w"))\n` +
      `(mapcar (lambda (l) (format fd "%s\\n" l)) (hts_dump_feats_string_list u hts_feats_list))\n(fclose fd)`,
  );
  await writeFile(script, ['(voice_cmu_us_slt_arctic_hts)', ...body].join('\n') + '\n');
  await runFestival(tools, script, work);
  for (const t of sentences) {
    if (!existsSync(path.join(work, 'hts', `${t.id}.lab`)))
      throw new EarmarkError('EARMARK_IO', `festival did not write the HTS labels for '${t.text}' (script ${script})`);
  }
}

async function runFestival(tools: ToolCommands, script: string, cwd: string): Promise<void> {
  const line = `${tools.festival} -b ${script}`;
  const hint = (text: string): string =>
    /unbound variable.*voice_/.test(text)
      ? '\n  A festival voice is missing: `apt-get install -y --no-install-recommends festvox-kdlpc16k festvox-us-slt-hts`'
      : '';
  let stderr: string;
  try {
    ({ stderr } = await runTool('festival', tools.festival, ['-b', script], { cwd }));
  } catch (e) {
    if (e instanceof CorpusToolError && hint(e.message))
      throw new CorpusToolError('festival', e.command, e.message + hint(e.message), { cause: e });
    throw e;
  }
  // some festival builds exit 0 even when a Scheme error stops the script, so stderr is checked too
  if (/SIOD ERROR|error:/i.test(stderr)) {
    throw new CorpusToolError(
      'festival',
      line,
      `festival failed running \`${line}\`:\n    ${stderr.trim().split('\n').slice(-6).join('\n    ')}${hint(stderr)}`,
    );
  }
}

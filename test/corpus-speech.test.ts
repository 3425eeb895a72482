// The built-in speech corpus: byte-identical builds for a seed, exact label counts, every engine
// working, and clear errors for a missing engine. Builds are tiny (2–4 espeak-ng voices × 2 emotions × 2 sentences) so the suite stays fast.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { decodeWav16, parseCsv } from '../src/data/builtin/files.js';
import { buildSpeechCorpus, resolveSpeechConfig, type SpeechCorpusConfig } from '../src/data/builtin/speech.js';
import { CorpusToolError } from '../src/data/builtin/tools.js';
import { speakersFor } from '../src/data/builtin/voices.js';
import { loadManifest } from '../src/data/manifest.js';
import { EarmarkError } from '../src/errors.js';

const root = mkdtempSync(path.join(tmpdir(), 'earmark-speech-'));
after(() => rmSync(root, { recursive: true, force: true }));

const TINY: Partial<SpeechCorpusConfig> = { speakers: ['F01', 'M01'], emotions: ['neutral', 'sad'], sentences: 2 };
const build = (name: string, extra: Partial<SpeechCorpusConfig>) =>
  buildSpeechCorpus({ ...TINY, out: path.join(root, name), ...extra });
const read = (dir: string, file: string): string => readFileSync(path.join(dir, file), 'utf8');

describe('speech corpus builds', () => {
  test('same seed gives identical checksums; another seed differs', async () => {
    const a = await build('a', { seed: 7 });
    const b = await build('b', { seed: 7 });
    const c = await build('c', { seed: 8 });
    assert.equal(a.clips, 8);
    assert.equal(read(a.out, 'checksums.sha256'), read(b.out, 'checksums.sha256'));
    assert.notEqual(read(a.out, 'checksums.sha256'), read(c.out, 'checksums.sha256'));
    // the manifest covers every WAV plus labels.csv
    const listed = read(a.out, 'checksums.sha256')
      .trim()
      .split('\n')
      .map((l) => l.slice(66));
    assert.equal(listed.length, 9);
    assert.ok(listed.includes('labels.csv'));
    assert.ok(!existsSync(`${a.out}.partial`));
  });

  test('labels.csv has the header, one row per clip and exact counts per speaker, gender, emotion', async () => {
    const dir = path.join(root, 'a');
    const text = read(dir, 'labels.csv');
    assert.equal(text.split('\n')[0], 'path,speaker,gender,emotion,sentence');
    const rows = parseCsv(text, 'labels.csv');
    const count = (key: string): Record<string, number> =>
      rows.reduce<Record<string, number>>((m, r) => ({ ...m, [r[key]!]: (m[r[key]!] ?? 0) + 1 }), {});
    assert.deepEqual(count('speaker'), { F01: 4, M01: 4 });
    assert.deepEqual(count('gender'), { female: 4, male: 4 });
    assert.deepEqual(count('emotion'), { neutral: 4, sad: 4 });
    assert.equal(Object.keys(count('sentence')).length, 2);
    for (const r of rows) {
      assert.match(
        r['path']!,
        new RegExp(`^wav/${r['speaker']}/${r['speaker']}_${r['emotion']}_${r['sentence']}\\.wav$`),
      );
      const { samples, sampleRate } = decodeWav16(readFileSync(path.join(dir, r['path']!)), r['path']!);
      assert.equal(sampleRate, 16000);
      assert.ok(samples.length > 16000 * 0.8, `${r['path']} is too short: ${samples.length} samples`);
    }
    // the generic CSV adapter reads it as it is
    const corpus = loadManifest(path.join(dir, 'labels.csv'));
    assert.equal(corpus.utterances.length, 8);
    assert.deepEqual(corpus.utterances.map((u) => u.gender).sort(), [
      'female',
      'female',
      'female',
      'female',
      'male',
      'male',
      'male',
      'male',
    ]);
    const manifest = JSON.parse(read(dir, 'corpus.json')) as {
      seed: number;
      engines: Record<string, string>;
      config: object;
    };
    assert.equal(manifest.seed, 7);
    assert.ok(manifest.engines['espeak-ng']?.includes('eSpeak'));
    assert.ok(manifest.engines['praat'] && manifest.engines['sox']);
  });

  test('an existing corpus with the same config is reused, not rebuilt', async () => {
    const r = await build('a', { seed: 7 });
    assert.equal(r.reused, true);
    assert.equal(r.clips, 8);
  });

  test('flite, festival, hts_engine and espeak-ng twins all synthesise', async () => {
    const r = await build('engines', {
      difficulty: 1,
      speakers: ['F05', 'M06', 'M07', 'F09', 'M11'],
      emotions: ['angry'],
      sentences: 1,
    });
    assert.equal(r.clips, 5);
    const m = JSON.parse(read(r.out, 'corpus.json')) as {
      speakers: { id: string; parent?: string; voice: { engine: string } }[];
    };
    assert.deepEqual(
      m.speakers.map((s) => [s.id, s.voice.engine, s.parent ?? '']),
      [
        ['F05', 'flite', ''],
        ['M06', 'festival', ''],
        ['M07', 'hts_engine', ''],
        ['F09', 'espeak-ng', 'F01'],
        ['M11', 'hts_engine', 'M07'],
      ],
    );
  });
});

describe('speakers and config', () => {
  test('difficulty adds 8 gender-balanced twins per level, seeded', async () => {
    const stock = async (): Promise<string> => 'language variant\npitch 100 150\nformant 1 100 100 100\n';
    for (const [d, n] of [
      [0, 16],
      [1, 24],
      [2, 32],
    ] as const) {
      const s = await speakersFor(d, 1, stock);
      assert.equal(s.length, n);
      assert.equal(s.filter((x) => x.gender === 'female').length, n / 2);
    }
    const a = await speakersFor(1, 1, stock);
    const b = await speakersFor(1, 2, stock);
    assert.deepEqual(a, await speakersFor(1, 1, stock));
    assert.notDeepEqual(a.slice(16), b.slice(16));
  });

  test('bad options are refused by name', () => {
    assert.throws(() => resolveSpeechConfig({ difficulty: 5 }), /difficulty must be an integer in 0\.\.2, got 5/);
    assert.throws(() => resolveSpeechConfig({ sentences: 0 }), /sentences must be/);
    assert.throws(() => resolveSpeechConfig({ emotions: ['bored' as never] }), /unknown emotion 'bored'/);
    assert.throws(
      () => resolveSpeechConfig({ colour: 1 } as never),
      (e: unknown) => e instanceof EarmarkError && /unknown speech corpus option 'colour'/.test(e.message),
    );
  });
});

describe('missing engines', () => {
  test('a missing espeak-ng names the engine, the command and the package to install', async () => {
    await assert.rejects(
      build('missing-espeak', { seed: 1, tools: { espeakNg: 'espeak-ng-not-installed' } }),
      (e: unknown) => {
        assert.ok(e instanceof CorpusToolError);
        assert.equal(e.engine, 'espeakNg');
        assert.match(e.command, /^espeak-ng-not-installed /);
        assert.match(e.message, /'espeak-ng-not-installed' is not on PATH/);
        assert.match(e.message, /apt-get install -y --no-install-recommends espeak-ng/);
        return true;
      },
    );
    assert.ok(!existsSync(path.join(root, 'missing-espeak')));
  });

  test('an empty PATH makes sox and praat missing too', async () => {
    const saved = process.env['PATH'];
    process.env['PATH'] = path.join(root, 'no-such-bin');
    try {
      await assert.rejects(
        build('missing-path', { seed: 1 }),
        (e: unknown) =>
          e instanceof CorpusToolError && /is not on PATH/.test(e.message) && /apt-get install/.test(e.message),
      );
    } finally {
      process.env['PATH'] = saved;
    }
  });
});

// The built-in soundscape corpus: the SNR mixer gives the requested energy ratio exactly, and a tiny
// offline build (synthetic "package" recordings at the real table's paths, a synthetic speech corpus)
// has the RDAL layout, exact counts, balanced genders, mixture = event + speech at the labelled SNR,
// and byte-identical output for a seed.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeWav16, encodeWav16, parseCsv, toCsv, writeChecksums } from '../src/data/builtin/files.js';
import { activeWindows, energy, mixAtSnr, window } from '../src/data/builtin/mix.js';
import { Rng } from '../src/util/rng.js';
import { buildSoundscapes, resolveSoundscapesConfig, type SoundscapesConfig } from '../src/data/builtin/soundscapes.js';

const root = mkdtempSync(path.join(tmpdir(), 'earmark-soundscapes-'));
after(() => rmSync(root, { recursive: true, force: true }));

function noise(n: number, seed: number, amp = 0.3): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => amp * r.uniform(-1, 1));
}

describe('mixAtSnr', () => {
  test('the speech-to-event energy ratio equals the requested SNR', () => {
    const event = noise(44100, 1, 0.5);
    const speech = Float32Array.from({ length: 44100 }, (_, i) => 0.1 * Math.sin((2 * Math.PI * 220 * i) / 44100));
    for (const snr of [-10, -3.5, 0, 6, 20]) {
      const { mix, speechGain } = mixAtSnr(event, speech, snr);
      const part = Float32Array.from(mix, (v, i) => v - event[i]!);
      assert.ok(Math.abs(10 * Math.log10(energy(part) / energy(event)) - snr) < 1e-4, `snr ${snr}`);
      assert.ok(Math.abs(10 * Math.log10((speechGain ** 2 * energy(speech)) / energy(event)) - snr) < 1e-9);
    }
  });

  test('refuses silence, length mismatch and non-finite SNR by name', () => {
    const x = noise(100, 2);
    assert.throws(() => mixAtSnr(x, new Float32Array(100), 0), /speech is silent/);
    assert.throws(() => mixAtSnr(new Float32Array(100), x, 0), /event is silent/);
    assert.throws(() => mixAtSnr(x, noise(99, 3), 0), /same length, got 100 and 99/);
    assert.throws(() => mixAtSnr(x, x, Number.NaN), /snrDb must be finite/);
  });

  test('activeWindows keeps the loud part; window pads with zeros', () => {
    const x = new Float32Array(1000);
    x.set(noise(200, 4), 600);
    assert.deepEqual(activeWindows(x, 0, 1000, 200, 100, 2), [600]); // 500 and 700 hold half of it: −3 dB
    assert.deepEqual(activeWindows(x, 0, 1000, 200, 100, 4), [500, 600, 700]);
    assert.deepEqual(Array.from(window(Float32Array.from([1, 2, 3]), -2, 6)), [0, 0, 1, 2, 3, 0]);
  });
});

// Synthetic stand-ins for the Debian packages, at the paths the class table expects.
const S3D = 'scorched3d-data/usr/share/games/scorched3d/data/globalmods/none/data/wav/misc';
function writeSources(dir: string): void {
  mkdirSync(path.join(dir, S3D), { recursive: true });
  const bark = (seed: number): Float32Array => {
    const x = new Float32Array(22050 * 2);
    for (let b = 0; b < 4; b++) x.set(noise(3000, seed + b, 0.6), 4000 + b * 10000);
    return x;
  };
  for (const [k, name] of ['dog', 'dog2', 'dog3'].entries())
    writeFileSync(path.join(dir, S3D, `${name}.wav`), encodeWav16(bark(10 * k), 22050));
  const siren = (f0: number): Float32Array => {
    let phase = 0;
    return Float32Array.from({ length: 11025 * 5 }, (_, i) => {
      phase += (2 * Math.PI * (f0 + 300 * Math.sin((2 * Math.PI * i) / 11025))) / 11025;
      return 0.5 * Math.sin(phase);
    });
  };
  writeFileSync(path.join(dir, S3D, 'policecar.wav'), encodeWav16(siren(700), 11025));
  writeFileSync(path.join(dir, S3D, 'firetruck.wav'), encodeWav16(siren(900), 11025));
}

// A speech corpus in the built-in layout: 2 female and 2 male "voices" (harmonic tones).
async function writeSpeech(dir: string): Promise<void> {
  const rows: string[][] = [];
  for (const [id, gender, f0] of [
    ['F01', 'female', 210],
    ['F02', 'female', 190],
    ['M01', 'male', 110],
    ['M02', 'male', 95],
  ] as const) {
    mkdirSync(path.join(dir, 'wav', id), { recursive: true });
    for (const s of ['s01', 's02']) {
      const x = Float32Array.from(
        { length: 16000 * 2 },
        (_, i) => 0.2 * Math.sin((2 * Math.PI * f0 * i) / 16000) + 0.1 * Math.sin((4 * Math.PI * f0 * i) / 16000),
      );
      const rel = `wav/${id}/${id}_neutral_${s}.wav`;
      writeFileSync(path.join(dir, rel), encodeWav16(x, 16000));
      rows.push([rel, id, gender, 'neutral', s]);
    }
  }
  writeFileSync(path.join(dir, 'labels.csv'), toCsv(['path', 'speaker', 'gender', 'emotion', 'sentence'], rows));
  await writeChecksums(dir);
}

const sources = path.join(root, 'sources');
const speech = path.join(root, 'speech');
before(async () => {
  writeSources(sources);
  await writeSpeech(speech);
});
const TINY: Partial<SoundscapesConfig> = {
  classes: ['dog', 'siren'],
  clipsPerClass: 10,
  snrDb: 3,
  snrSpreadDb: 2,
  concurrency: 2,
};
const build = (name: string, seed: number) =>
  buildSoundscapes({ ...TINY, seed, sourceRoot: sources, speechCorpus: speech, out: path.join(root, name) });

describe('soundscapes build (offline, synthetic sources)', () => {
  test('same seed gives identical checksums; another seed differs', async () => {
    const a = await build('a', 5);
    const b = await build('b', 5);
    const c = await build('c', 6);
    assert.equal(a.clips, 20);
    const sums = (d: string): string => readFileSync(path.join(d, 'checksums.sha256'), 'utf8');
    assert.equal(sums(a.out), sums(b.out));
    assert.notEqual(sums(a.out), sums(c.out));
  });

  test('layout, counts, gender balance, RDAL names and SNR match labels.csv', () => {
    const dir = path.join(root, 'a');
    const rows = parseCsv(readFileSync(path.join(dir, 'labels.csv'), 'utf8'), 'labels.csv');
    assert.equal(rows.length, 20);
    const count = (f: (r: Record<string, string>) => string): Record<string, number> =>
      rows.reduce<Record<string, number>>((m, r) => ({ ...m, [f(r)]: (m[f(r)] ?? 0) + 1 }), {});
    // 10 clips per class: 6 train, 2 val, 2 eval, half of each with speech
    assert.deepEqual(
      count((r) => `${r['event']}/${r['split']}/${r['speech']}`),
      {
        'dog/train/speech': 3,
        'dog/train/no_speech': 3,
        'dog/val/speech': 1,
        'dog/val/no_speech': 1,
        'dog/eval/speech': 1,
        'dog/eval/no_speech': 1,
        'siren/train/speech': 3,
        'siren/train/no_speech': 3,
        'siren/val/speech': 1,
        'siren/val/no_speech': 1,
        'siren/eval/speech': 1,
        'siren/eval/no_speech': 1,
      },
    );
    assert.deepEqual(
      count((r) => r['gender'] || 'none'),
      { none: 10, female: 5, male: 5 },
    );
    for (const split of ['train', 'val', 'eval']) {
      const g = rows.filter((r) => r['split'] === split && r['speech'] === 'speech').map((r) => r['gender']);
      assert.equal(g.filter((x) => x === 'female').length, g.length / 2, `${split} speech is gender-balanced`);
    }
    // dog has 3 recordings, so each lies in exactly one split; siren (2) is split in time
    const splitsOf = (src: string): Set<string> =>
      new Set(rows.filter((r) => r['source'] === src).map((r) => r['split']!));
    for (const src of new Set(rows.filter((r) => r['event'] === 'dog').map((r) => r['source']!)))
      assert.equal(splitsOf(src).size, 1);
    for (const r of rows) {
      const { samples, sampleRate } = decodeWav16(readFileSync(path.join(dir, r['path']!)), r['path']!);
      assert.equal(sampleRate, 44100);
      assert.equal(samples.length, 44100);
      assert.match(
        r['path']!,
        new RegExp(`^${r['split']}/${r['event']}/${r['speech']}/e0${r['event_index']}_s\\d{3}_\\d{4}`),
      );
      if (r['speech'] === 'no_speech') continue;
      assert.ok(r['path']!.endsWith(`_${r['gender']}_${r['speaker']}.wav`));
      assert.equal(
        path.basename(r['event_path']!, '.wav'),
        path.basename(r['path']!, '.wav').split('_').slice(0, 3).join('_'),
      );
      const event = decodeWav16(readFileSync(path.join(dir, r['event_path']!)), r['event_path']!).samples;
      const part = Float32Array.from(samples, (v, i) => v - event[i]!);
      const snr = 10 * Math.log10(energy(part) / energy(event));
      assert.ok(
        Math.abs(snr - Number(r['snr_db'])) < 0.05,
        `${r['path']}: measured ${snr.toFixed(3)} dB, label ${r['snr_db']}`,
      );
      assert.ok(Math.abs(Number(r['snr_db']) - 3) <= 2);
    }
  });

  test('a failed package download names the package, the command and the offline fix', async () => {
    const cache = path.join(root, 'empty-cache');
    await assert.rejects(
      buildSoundscapes({
        ...TINY,
        seed: 1,
        speechCorpus: speech,
        cache,
        out: path.join(root, 'y'),
        tools: { aptGet: 'apt-get-not-installed' },
      }),
      (e: unknown) => {
        const m = (e as Error).message;
        assert.match(
          m,
          /could not download the Debian package 'scorched3d-data' with `apt-get download scorched3d-data`/,
        );
        assert.match(m, /copy scorched3d-data_\*\.deb into .*empty-cache\/debs/);
        assert.match(m, /'apt-get-not-installed' is not on PATH/);
        return true;
      },
    );
  });

  test('bad options and a missing speech corpus are refused by name', async () => {
    assert.throws(() => resolveSoundscapesConfig({ classes: ['unicorn'] }), /unknown event class\(es\) unicorn/);
    assert.throws(() => resolveSoundscapesConfig({ clipsPerClass: 4 }), /clipsPerClass must be an integer ≥ 10/);
    assert.throws(() => resolveSoundscapesConfig({ snrSpreadDb: -1 }), /snrSpreadDb must be ≥ 0/);
    await assert.rejects(
      buildSoundscapes({
        ...TINY,
        sourceRoot: sources,
        speechCorpus: path.join(root, 'nope'),
        out: path.join(root, 'x'),
      }),
      /speechCorpus: no labels\.csv in .*nope/,
    );
  });
});

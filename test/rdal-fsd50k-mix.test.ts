// buildFsd50kMix on a tiny fake FSD50K (its real layout: FSD50K.dev_audio/*.wav, FSD50K.eval_audio/*.wav,
// FSD50K.ground_truth/{dev,eval}.csv with fname,labels,mids[,split]) and a fake LibriSpeech tree
// (SPEAKERS.TXT + <subset>/<speaker>/<chapter>/<utt>; .wav here, as the test cannot write FLAC),
// then loadSoundscapes on the result.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { encodeWav, loadAudio } from '../src/audio/io.js';
import { buildFsd50kMix } from '../src/data/fsd50k-mix.js';
import { loadSoundscapes } from '../src/data/soundscape-set.js';
import { memory } from '../src/tensor/index.js';
import { parseCsvRecords } from '../src/util/csv.js';
import { Rng } from '../src/util/rng.js';

function tone(freq: number, seconds: number, rate: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from(
    { length: Math.round(seconds * rate) },
    (_, i) => 0.3 * Math.sin((2 * Math.PI * freq * i) / rate) + 0.05 * rng.uniform(-1, 1),
  );
}

function fakeCorpora(root: string): { fsd: string; libri: string } {
  const fsd = path.join(root, 'FSD50K');
  for (const d of ['FSD50K.dev_audio', 'FSD50K.eval_audio', 'FSD50K.ground_truth'])
    mkdirSync(path.join(fsd, d), { recursive: true });
  const dev = ['fname,labels,mids,split'];
  const ev = ['fname,labels,mids'];
  let id = 100;
  const clip = (dir: string, freq: number): string => {
    const fname = String(id++);
    writeFileSync(path.join(fsd, dir, `${fname}.wav`), encodeWav(tone(freq, 1.5, 44100, id), 44100));
    return fname;
  };
  for (const [label, extra, freq] of [
    ['Bark', 'Dog,Animal', 300],
    ['Doorbell', 'Alarm', 1200],
  ] as const) {
    for (const split of ['train', 'train', 'train', 'train', 'val', 'val'])
      dev.push(`${clip('FSD50K.dev_audio', freq)},"${label},${extra}",/m/x,${split}`);
    for (let k = 0; k < 2; k++) ev.push(`${clip('FSD50K.eval_audio', freq)},"${label},${extra}",/m/x`);
  }
  dev.push(`${clip('FSD50K.dev_audio', 500)},"Bark,Doorbell",/m/x,train`); // two classes at once: skipped
  dev.push(`${clip('FSD50K.dev_audio', 700)},"Music",/m/x,train`); // no class: skipped
  writeFileSync(path.join(fsd, 'FSD50K.ground_truth', 'dev.csv'), dev.join('\n') + '\n');
  writeFileSync(path.join(fsd, 'FSD50K.ground_truth', 'eval.csv'), ev.join('\n') + '\n');
  const libri = path.join(root, 'LibriSpeech');
  const speakers = [
    ['11', 'F'],
    ['12', 'F'],
    ['13', 'F'],
    ['21', 'M'],
    ['22', 'M'],
    ['23', 'M'],
  ] as const;
  const lines = [';ID  |SEX| SUBSET           |MINUTES| NAME'];
  for (const [spk, sex] of speakers) {
    lines.push(`${spk} | ${sex} | dev-clean | 1.00 | Reader ${spk}`);
    const dir = path.join(libri, 'dev-clean', spk, '7');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, `${spk}-7-0000.wav`),
      encodeWav(tone(sex === 'F' ? 220 : 110, 1.2, 16000, Number(spk)), 16000),
    );
  }
  writeFileSync(path.join(libri, 'SPEAKERS.TXT'), lines.join('\n') + '\n');
  return { fsd, libri };
}

test('buildFsd50kMix: the soundscape layout from FSD50K + LibriSpeech, readable by loadSoundscapes', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'earmark-fsd50k-'));
  try {
    const { fsd, libri } = fakeCorpora(root);
    const out = path.join(root, 'mix');
    const counts = await buildFsd50kMix({
      fsd50k: fsd,
      librispeech: libri,
      out,
      classes: { dog: 'Bark', bell: 'Doorbell' },
      seed: 1,
    });
    assert.deepEqual(counts, { train: 8, val: 4, eval: 4 });
    const { records } = parseCsvRecords(readFileSync(path.join(out, 'labels.csv'), 'utf8'));
    assert.equal(records.length, 16);
    for (const split of ['train', 'val', 'eval']) {
      const rs = records.filter((r) => r['split'] === split);
      const sp = rs.filter((r) => r['speech'] === 'speech');
      assert.equal(sp.length * 2, rs.length, `${split}: half the clips carry speech`);
      assert.equal(
        sp.filter((r) => r['gender'] === 'female').length,
        sp.filter((r) => r['gender'] === 'male').length,
        `${split}: gender-balanced`,
      );
    }
    const spkSplits = new Map<string, Set<string>>();
    for (const r of records.filter((x) => x['speaker']))
      spkSplits.set(r['speaker']!, (spkSplits.get(r['speaker']!) ?? new Set()).add(r['split']!));
    for (const [s, splits] of spkSplits) assert.equal(splits.size, 1, `speaker ${s} is in one split only`);
    // a mixture minus its event part is the (scaled) speech: non-zero, and the event part is the clip's event
    const m = records.find((r) => r['speech'] === 'speech')!;
    const mix = (await loadAudio(path.join(out, m['path']!), { mono: true })).samples;
    const evp = (await loadAudio(path.join(out, m['event_path']!), { mono: true })).samples;
    assert.equal(mix.length, 44100);
    let e = 0;
    for (let i = 0; i < mix.length; i++) e += (mix[i]! - evp[i]!) ** 2;
    assert.ok(e > 1, 'the speech part is audible');
    assert.match(m['path']!, /^(train|val|eval)\/(dog|bell)\/speech\/e0[01]_\d+_(female|male)_\d+\.wav$/);

    const before = memory().numTensors;
    const data = await loadSoundscapes(out, { eventParts: true });
    assert.deepEqual(data.classes, ['dog', 'bell']);
    assert.equal(data.train.n, 8);
    assert.equal(data.train.nMels, 64);
    assert.equal(data.train.frames, 100); // 44,100 samples, centred STFT with n_fft 1411, hop 441
    assert.equal(data.train.logmel.length, 8 * 64 * 100);
    assert.deepEqual(data.eval.speech.filter((y) => y === 1).length, 2);
    assert.ok(data.train.eventPower !== null);
    assert.equal(memory().numTensors, before);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// Corpus adapters on fixture trees built in each corpus's real layout: labels, counts, auto-detection,
// and errors that name the file and the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../src/errors.js';
import { countBy, labelMap, classIndex } from '../src/data/types.js';
import { loadCorpus, detectLayout } from '../src/data/load.js';
import { parseRavdessName } from '../src/data/ravdess.js';
import { parseSpeakersTxt } from '../src/data/librispeech.js';
import { parseVox2Meta } from '../src/data/voxceleb2.js';
import { probeAudio, parseWavHeader } from '../src/data/probe.js';
import {
  emovdbSortedTree,
  emovdbTree,
  librispeechTree,
  put,
  ravdessTree,
  SPEAKERS_TXT,
  tempDir,
  tinyWav,
  voxceleb2Tree,
} from './fixtures/data/trees.js';

const obj = (m: Map<string, number>) => Object.fromEntries(m);
const isDatasetError = (re: RegExp) => (e: unknown) =>
  e instanceof EarmarkError && e.code === 'EARMARK_DATASET' && re.test(e.message);

test('RAVDESS: labels from the file-name codes, speech only, odd actors male', () => {
  const root = ravdessTree(4);
  try {
    const c = loadCorpus({ layout: 'ravdess', root });
    assert.equal(c.name, 'ravdess');
    assert.equal(c.utterances.length, 240); // 60 speech files per actor; the song file is left out
    assert.deepEqual(obj(countBy(c.utterances, 'speaker')), { Actor_01: 60, Actor_02: 60, Actor_03: 60, Actor_04: 60 });
    assert.deepEqual(obj(countBy(c.utterances, 'gender')), { female: 120, male: 120 });
    assert.deepEqual(obj(countBy(c.utterances, 'emotion')), {
      angry: 32,
      calm: 32,
      disgust: 32,
      fearful: 32,
      happy: 32,
      neutral: 16,
      sad: 32,
      surprised: 32,
    });
    const u = c.utterances.find((x) => x.id === '03-01-05-02-01-02-03')!;
    assert.equal(u.speaker, 'Actor_03');
    assert.equal(u.gender, 'male');
    assert.equal(u.emotion, 'angry');
    assert.equal(u.sentence, '01');
    assert.equal(u.text, 'Kids are talking by the door');
    assert.deepEqual(u.labels, { intensity: 'strong', repetition: '02', modality: 'audio-only' });
    assert.equal(u.path, path.join(root, 'Actor_03', '03-01-05-02-01-02-03.wav'));
    assert.ok(path.isAbsolute(u.path));
    assert.equal(detectLayout(root), 'ravdess');
    assert.equal(loadCorpus({ root }).utterances.length, 240);
    // class indices are sorted label order
    const emo = labelMap(c.utterances, 'emotion');
    assert.deepEqual(emo.names, ['angry', 'calm', 'disgust', 'fearful', 'happy', 'neutral', 'sad', 'surprised']);
    assert.equal(classIndex(emo, u), 0);
    assert.equal(parseRavdessName('02-01-06-01-02-01-12.mp4')?.gender, 'female');
    // an actor file in the wrong folder is named in the error
    put(root, 'Actor_01/03-01-01-01-01-01-02.wav', tinyWav());
    assert.throws(
      () => loadCorpus({ layout: 'ravdess', root }),
      isDatasetError(/Actor_01\/03-01-01-01-01-01-02\.wav codes actor Actor_02/),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('EmoV-DB: OpenSLR <speaker>_<Style> folders and the sorted <speaker>/<Style> form', () => {
  const root = emovdbTree(10);
  try {
    const c = loadCorpus({ layout: 'emovdb', root });
    assert.equal(c.utterances.length, 180); // 3 speakers × 5 styles × 10 + josh × 3 styles × 10
    assert.deepEqual(obj(countBy(c.utterances, 'speaker')), { bea: 50, jenie: 50, josh: 30, sam: 50 });
    assert.deepEqual(obj(countBy(c.utterances, 'gender')), { female: 100, male: 80 });
    assert.deepEqual(obj(countBy(c.utterances, 'emotion')), {
      amused: 40,
      angry: 30,
      disgust: 30,
      neutral: 40,
      sleepy: 40,
    });
    const u = c.utterances.find((x) => x.id === 'sam_sleepy_1-28_0007')!;
    assert.equal(u.path, path.join(root, 'sam_Sleepy', 'sleepiness_1-28_0007.wav'));
    assert.equal(u.sentence, '0007');
    assert.equal(detectLayout(root), 'emovdb');
    // a file whose name disagrees with its folder
    put(root, 'bea_Angry/amused_1-15_0099.wav', tinyWav());
    assert.throws(
      () => loadCorpus({ layout: 'emovdb', root }),
      isDatasetError(/amused_1-15_0099\.wav is named 'amused' \(amused\) but lies in a angry folder/),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const sorted = emovdbSortedTree();
  try {
    const c = loadCorpus({ root: sorted });
    assert.deepEqual(
      c.utterances.map((u) => [u.id, u.speaker, u.gender, u.emotion]),
      [
        ['bea_amused_1-15_0001', 'bea', 'female', 'amused'],
        ['bea_angry_1-28_0011', 'bea', 'female', 'angry'],
        ['sam_sleepy_1-20_0003', 'sam', 'male', 'sleepy'],
      ],
    );
  } finally {
    rmSync(sorted, { recursive: true, force: true });
  }
});

test('LibriSpeech: SPEAKERS.TXT genders, subsets and transcripts', () => {
  const sp = parseSpeakersTxt(SPEAKERS_TXT);
  assert.equal(sp.size, 9);
  assert.deepEqual(sp.get('60'), {
    id: '60',
    gender: 'male',
    subset: 'train-clean-100',
    minutes: 20.18,
    name: '|CBW|Simon',
  });
  const root = librispeechTree();
  try {
    const c = loadCorpus({ root });
    assert.equal(c.name, 'librispeech');
    assert.equal(c.utterances.length, 54);
    assert.deepEqual(obj(countBy(c.utterances, 'subset')), { 'test-clean': 24, 'train-clean-100': 30 });
    const spk = new Map(c.utterances.map((u) => [u.speaker, u.gender]));
    assert.deepEqual(Object.fromEntries(spk), {
      1089: 'male',
      121: 'female',
      19: 'female',
      237: 'female',
      26: 'male',
      27: 'male',
      32: 'female',
      60: 'male',
      61: 'male',
    });
    const u = c.utterances.find((x) => x.id === '121-1211-0002')!;
    assert.equal(u.text, 'HELLO WORLD NUMBER 2');
    assert.deepEqual(u.labels, { subset: 'test-clean', chapter: '1211' });
    assert.equal(u.path, path.join(root, 'test-clean', '121', '1211', '121-1211-0002.flac'));
    assert.equal(loadCorpus({ layout: 'librispeech', root, subsets: ['test-clean'] }).utterances.length, 24);
    assert.throws(
      () => loadCorpus({ layout: 'librispeech', root, subsets: ['train-clean-360'] }),
      isDatasetError(/train-clean-360 not found/),
    );
    rmSync(path.join(root, 'SPEAKERS.TXT'));
    assert.throws(
      () => loadCorpus({ layout: 'librispeech', root }),
      isDatasetError(/no SPEAKERS\.TXT in .*LibriSpeech's root must contain SPEAKERS\.TXT/),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('VoxCeleb2: vox2_meta.csv with spaces before commas, dev/test from the path', () => {
  const meta = parseVox2Meta(
    'VoxCeleb2 ID ,VGGFace2 ID ,Gender ,Set \nid00012 ,n000012 ,m ,dev \nid00061 ,n000061 ,f ,test \n',
  );
  assert.deepEqual(meta.get('id00061'), { id: 'id00061', gender: 'female', set: 'test' });
  const tabbed = parseVox2Meta('Name\tVoxCeleb2 ID\tVGGFace2 ID\tGender\tSet\nA B\tid00012\tn000012\tm\tdev\n');
  assert.equal(tabbed.get('id00012')?.gender, 'male');
  const root = voxceleb2Tree();
  try {
    assert.equal(detectLayout(root), 'voxceleb2');
    const c = loadCorpus({ layout: 'voxceleb2', root });
    assert.equal(c.utterances.length, 32);
    assert.deepEqual(obj(countBy(c.utterances, 'set')), { dev: 16, test: 16 });
    assert.deepEqual(obj(countBy(c.utterances, 'gender')), { female: 16, male: 16 });
    const u = c.utterances.find((x) => x.id === 'id00061/5t-ZhZ1NLbM/00002')!;
    assert.equal(u.speaker, 'id00061');
    assert.equal(u.gender, 'female');
    assert.deepEqual(u.labels, { set: 'test', video: '5t-ZhZ1NLbM' });
    assert.equal(loadCorpus({ layout: 'voxceleb2', root, subsets: ['test'] }).utterances.length, 16);
    rmSync(path.join(root, 'vox2_meta.csv'));
    assert.throws(
      () => loadCorpus({ layout: 'voxceleb2', root }),
      isDatasetError(/no vox2_meta\.csv in .*pass its path with --manifest/),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('CSV manifest: relative and absolute paths, quoted commas, free label columns', () => {
  const root = tempDir('manifest');
  try {
    put(root, 'a/one.wav', tinyWav());
    put(root, 'b/two, with comma.wav', tinyWav());
    const abs = put(root, 'c/three.wav', tinyWav());
    put(
      root,
      'labels.csv',
      `path,speaker,gender,emotion,room\na/one.wav,S1,f,happy,lab\n"b/two, with comma.wav",S2,M,sad,"hall, east"\n${abs},S1,female,happy,lab\n`,
    );
    const c = loadCorpus({ root });
    assert.equal(c.name, path.basename(root), 'a generic manifest name (labels.csv) names the corpus after its folder');
    assert.deepEqual(c.labelNames, ['speaker', 'gender', 'emotion', 'room']);
    assert.deepEqual(
      c.utterances.map((u) => [u.id, u.speaker, u.gender, u.emotion, u.labels?.room]),
      [
        ['a/one', 'S1', 'female', 'happy', 'lab'],
        ['b/two, with comma', 'S2', 'male', 'sad', 'hall, east'],
        ['c/three', 'S1', 'female', 'happy', 'lab'],
      ],
    );
    assert.equal(c.utterances[1]!.path, path.join(root, 'b', 'two, with comma.wav'));
    writeFileSync(path.join(root, 'bad.csv'), 'file,speaker\na/one.wav,S1\n');
    assert.throws(
      () => loadCorpus({ layout: 'csv', manifest: path.join(root, 'bad.csv') }),
      isDatasetError(/bad\.csv has no 'path' column \(found: 'file', 'speaker'\)/),
    );
    writeFileSync(path.join(root, 'missing.csv'), 'path\nnope.wav\n');
    assert.throws(
      () => loadCorpus({ layout: 'csv', manifest: path.join(root, 'missing.csv') }),
      isDatasetError(/audio file .*nope\.wav \(utterance nope\) does not exist; .*--skip-bad/),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('auto-detection names every layout when nothing matches; header probe reads durations', () => {
  const root = tempDir('empty');
  try {
    assert.throws(() => detectLayout(root), isDatasetError(/cannot tell the layout .*pass --layout/));
    assert.throws(() => loadCorpus({ layout: 'ravdess', root }), isDatasetError(/no RAVDESS audio found under/));
    assert.throws(
      () => loadCorpus({ layout: 'ravdess', root: path.join(root, 'nope') }),
      isDatasetError(/does not exist; check --root/),
    );
    const f = put(root, 'x.wav', tinyWav(440, 0.5, 16000));
    assert.deepEqual(probeAudio(f), { sampleRate: 16000, channels: 1, frames: 8000, seconds: 0.5 });
    assert.equal(parseWavHeader(Buffer.from('RIFX....WAVE')), undefined);
    assert.equal(probeAudio(path.join(root, 'none.wav')), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('CSV parser: quotes, doubled quotes, newlines in fields, CRLF, BOM, tabs; formatCsv round-trips', async () => {
  const { parseCsv, formatCsv } = await import('../src/util/csv.js');
  const text = '\ufeffpath,text\r\n"a, b.wav","say ""hi""\nthen go"\r\nc.wav, plain \r\n\r\n';
  const rows = parseCsv(text);
  assert.deepEqual(rows, [
    ['path', 'text'],
    ['a, b.wav', 'say "hi"\nthen go'],
    ['c.wav', 'plain'],
  ]);
  assert.deepEqual(parseCsv(formatCsv(rows)), rows);
  assert.deepEqual(parseCsv('a\tb\n1\t2\n', { delimiter: 'auto' }), [
    ['a', 'b'],
    ['1', '2'],
  ]);
  assert.throws(() => parseCsv('a,"b\n'), /not closed/);
});

test('FLAC STREAMINFO header gives the duration without decoding', async () => {
  const { parseFlacHeader } = await import('../src/data/probe.js');
  const buf = Buffer.alloc(42);
  buf.write('fLaC', 0, 'latin1');
  buf[4] = 0x80; // last block, type 0 (STREAMINFO), length 34
  buf.writeUIntBE(34, 5, 3);
  // sample rate 16000 (20 bits), 1 channel (3 bits: 0), 16 bits/sample (5 bits: 15), 40000 samples (36 bits)
  const sr = 16000,
    ch = 0,
    bps = 15,
    total = 40000;
  const b = 8 + 10;
  buf[b] = sr >> 12;
  buf[b + 1] = (sr >> 4) & 0xff;
  buf[b + 2] = ((sr & 0xf) << 4) | (ch << 1) | (bps >> 4);
  buf[b + 3] = ((bps & 0xf) << 4) | 0;
  buf.writeUInt32BE(total, b + 4);
  assert.deepEqual(parseFlacHeader(buf), { sampleRate: 16000, channels: 1, frames: 40000, seconds: 2.5 });
});

// The whole audio path as the obfuscator uses it: a 44.1 kHz stereo file → loadAudio (mono, 16 kHz,
// peak 1) → DS2 features with phase → inversion → 16-bit WAV → read back, still the same audio.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { memory, tensor, tidy } from '../src/tensor/index.js';
import { loadAudio, writeWav } from '../src/audio/io.js';
import { Ds2Spectrogram } from '../src/audio/transforms.js';
import { testSignal } from '../src/audio/testing.js';

test('file → 16 kHz mono → DS2 → inverse → pcm16 file reproduces the audio (SNR >= 30 dB)', async (t) => {
  const before = memory().numTensors;
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-audio-'));
  const ds2 = new Ds2Spectrogram();
  try {
    const src = path.join(dir, 'in.wav');
    await writeWav(src, [testSignal(44100, 44100, 11), testSignal(44100, 44100, 12)], 44100, { format: 'float32' });
    const x = await loadAudio(src, { mono: true, sampleRate: 16000, peak: 1 });
    assert.equal(x.samples.length, 16000);
    const y = tidy(() => {
      const f = ds2.forward(tensor(x.samples), { returnPhase: true });
      assert.deepEqual(f.spectrogram.shape, [161, 101]);
      return ds2.inverse(f, x.samples.length).toFloat32Array();
    });
    const out = path.join(dir, 'out.wav');
    await writeWav(out, y, 16000);
    const back = await loadAudio(out, { mono: true });
    assert.equal(back.sampleRate, 16000);
    let s = 0;
    let e = 0;
    for (let i = 0; i < x.samples.length; i++) {
      s += x.samples[i]! ** 2;
      e += (x.samples[i]! - back.samples[i]!) ** 2;
    }
    const snr = 10 * Math.log10(s / e);
    t.diagnostic(`round trip through DS2 features and a 16-bit file: SNR ${snr.toFixed(1)} dB`);
    assert.ok(snr >= 30, `SNR ${snr} dB`);
  } finally {
    ds2.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(memory().numTensors, before);
});

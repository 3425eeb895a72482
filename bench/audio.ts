// Audio front-end throughput in seconds of audio per second of compute (× real time), on one
// libtorch thread: aten::stft and the DS2 spectrogram (target ≥ 1000×) beside PyTorch's figures
// (bench/peers/audio.py), RDAL log-mel, Griffin-Lim, libsamplerate resampling, WAV decoding.
import type { BenchRow } from './types.js';
import { getNumThreads, hammingWindow, setNumThreads, stack, tensor, tidy } from '../src/tensor/index.js';
import { Ds2Spectrogram, RdalLogMel } from '../src/audio/transforms.js';
import { decodeWav, encodeWav, resample } from '../src/audio/io.js';
import { testSignal } from '../src/audio/testing.js';
import { formatValue } from './format.js';
import { rateRow, versus } from './peer.js';

/** Run `fn` (after one warm-up) until at least `minSeconds` have passed; seconds per call. */
async function timeIt(fn: () => unknown, minSeconds = 0.6): Promise<number> {
  await fn();
  let calls = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minSeconds) {
    await fn();
    calls++;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  return elapsed / calls;
}

export async function benchAudio(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const row = (name: string, audioSeconds: number, perCall: number, target?: string, note?: string): void => {
    rows.push({
      section: 'audio',
      name,
      value: Math.round(audioSeconds / perCall),
      unit: '× real time',
      ...(target ? { target } : {}),
      ...(note ? { note } : {}),
    });
  };
  const threads = getNumThreads();
  setNumThreads(1);
  try {
    // aten::stft alone (issue 15: 4.6-4.9 ms through the addon against 0.47-0.51 ms from PyTorch)
    const ds2 = new Ds2Spectrogram();
    const x16 = testSignal(160000, 16000, 1);
    const clip = tensor(x16);
    const window = hammingWindow(320, true);
    const stft = await versus(
      () =>
        tidy(() => {
          clip.stft(320, { hopLength: 160, window, center: true, padMode: 'reflect', onesided: true });
        }),
      { case: 'audio.stft', args: { n: 160000, n_fft: 320, hop: 160 }, grad: false },
      { warmup: 5, repeats: 9, iters: 20 },
    );
    rows.push(
      rateRow('audio', 'aten::stft 320/160 (10 s clip, float32, 1 thread)', 10, stft, '× real time', {
        note:
          `${formatValue(stft.earmark.median * 1e3)} ms per call` +
          (stft.peer ? `, PyTorch ${formatValue(stft.peer.median * 1e3)} ms (torch.stft, return_complex)` : ''),
      }),
    );
    clip.dispose();
    window.dispose();
    // DS2: 10 s at 16 kHz → (161, 1001); waveform to tensor included, features copied back to JS. The copies
    // out are V8 ArrayBuffers, freed only by GC, so the first ~80 calls take fresh pages from the kernel
    // until collections recycle them: 100 warm-up calls on both sides measure the steady state.
    const front = await versus(
      () =>
        tidy(() => {
          ds2.forward(tensor(x16)).spectrogram.toFloat32Array();
        }),
      { case: 'audio.ds2_spectrogram', args: { n: 160000, n_fft: 320, hop: 160 }, grad: false },
      { warmup: 100, repeats: 9, iters: 10 },
    );
    rows.push(
      rateRow('audio', 'DS2 spectrogram (10 s clip, 1 thread)', 10, front, '× real time', {
        target: '>= 1000',
        note: 'STFT 320/160 + log1p + mean/std, incl. copies in and out',
      }),
    );
    const clips16 = Array.from({ length: 16 }, (_, i) => testSignal(16000, 16000, i));
    row(
      'DS2 spectrogram (batch 16 × 1 s, 1 thread)',
      16,
      await timeIt(() =>
        tidy(() => {
          ds2.forward(stack(clips16.map((c) => tensor(c)))).spectrogram.toFloat32Array();
        }),
      ),
      '>= 1000',
    );
    const gl = 32;
    const short = testSignal(32000, 16000, 3);
    const f = tidy(() => ds2.forward(tensor(short)));
    row(
      `DS2 Griffin-Lim (${gl} iterations, 2 s clip, 1 thread)`,
      2,
      await timeIt(
        () =>
          tidy(() => {
            ds2.griffinLim(f, { nIter: gl }).toFloat32Array();
          }),
        0.3,
      ),
    );
    row(
      'DS2 inversion with phase (2 s clip, 1 thread)',
      2,
      await timeIt(() =>
        tidy(() => {
          const g = ds2.forward(tensor(short), { returnPhase: true });
          ds2.inverse(g, short.length).toFloat32Array();
        }),
      ),
      undefined,
      'forward with phase + istft',
    );
    for (const t of Object.values(f)) t?.dispose();
    ds2.dispose();

    // RDAL: 16 one-second clips at 44.1 kHz → (16, 64, 100)
    const lm = new RdalLogMel();
    const clips44 = Array.from({ length: 16 }, (_, i) => testSignal(44100, 44100, i));
    row(
      'RDAL log-mel (batch 16 × 1 s, 1 thread)',
      16,
      await timeIt(() =>
        tidy(() => {
          lm.forward(stack(clips44.map((c) => tensor(c)))).toFloat32Array();
        }),
      ),
      undefined,
      'STFT 1411/441 + power + 64 Slaney mels + dB',
    );
    lm.dispose();
  } finally {
    setNumThreads(threads);
  }

  // libsamplerate (wasm, single-threaded by construction): 10 s 44.1 kHz → 16 kHz
  const x44 = testSignal(441000, 44100, 5);
  for (const quality of ['best', 'medium', 'fastest'] as const) {
    row(
      `resample 44.1 → 16 kHz (${quality})`,
      10,
      await timeIt(() => resample(x44, 44100, 16000, { quality }), 0.5),
      undefined,
      quality === 'best' ? 'SRC_SINC_BEST_QUALITY (the default)' : undefined,
    );
  }
  // WAV decoding: 60 s of 16-bit stereo at 44.1 kHz
  const wav = encodeWav([testSignal(2646000, 44100, 6), testSignal(2646000, 44100, 7)], 44100);
  row('decode WAV (16-bit stereo 44.1 kHz)', 60, await timeIt(() => decodeWav(wav), 0.3));
  return rows;
}

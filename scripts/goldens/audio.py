#!/usr/bin/python3
"""Golden values for the audio front-end (src/audio/*.test.ts, test/audio-*.test.ts).

1. DeepSpeech2 spectrogram as deepspeech.pytorch's `SpectrogramParser.parse_audio` computes it:
   librosa.stft(y, n_fft=320, hop_length=160, win_length=320, window='hamming') (scipy's periodic
   Hamming, center=True; the repo's pins (numba 0.43, llvmlite 0.32) predate librosa 0.9, so librosa's
   pad_mode default was still 'reflect'), magnitude, log1p, then (S - S.mean()) / S.std() with torch's
   unbiased std.
   Computed here with torch.stft in float64 and cross-checked against a numpy re-implementation of
   librosa's framing (np.pad reflect + rfft), since librosa itself is not installed.
2. torchaudio.functional.melscale_fbanks(706, 0, 22050, 64, 44100, norm='slaney', mel_scale='slaney')
   (the RDAL filter bank), plus a small HTK/no-norm bank to test the other branches.
3. RDAL log-mel: torch.stft(n_fft=1411, hop=441, periodic Hamming, center=True, zero padding as
   librosa 0.9.2), power, MelScale, AmplitudeToDB(stype='power', top_db=80), all float32 as the
   reference code runs it.

The test signals are generated from a formula (tones, a chirp, 32-bit LCG noise, a quiet tail) that
src/audio/testing.ts reproduces exactly, so no audio is stored; a few samples are stored as a check.

Run with Debian's torch (the same 1.13 as our libtorch):
    /usr/bin/python3 scripts/goldens/audio.py
Writes test/fixtures/audio/: audio.json (arrays: file, dtype, shape; scalars) and raw little-endian
.f32 files, plus PROVENANCE.md.
"""
import datetime
import json
import math
import os

import numpy as np
import scipy.signal
import torch
import torchaudio
import torchaudio.functional as AF
import torchaudio.transforms as AT

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'audio')
arrays = {}
scalars = {}


def save(name, t):
    a = np.ascontiguousarray(t.detach().numpy().astype('<f4'))
    fname = f'{name}.f32'
    with open(os.path.join(OUT, fname), 'wb') as f:
        f.write(a.tobytes())
    arrays[name] = {'file': fname, 'dtype': 'float32', 'shape': list(a.shape)}


def test_signal(n, sr, seed):
    """The shared formula (mirrored in src/audio/testing.ts `testSignal`), float64 math, float32 out."""
    out = np.empty(n, dtype=np.float32)
    state = seed & 0xFFFFFFFF
    dur = n / sr
    for i in range(n):
        t = i / sr
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        u = state / 4294967296.0 * 2.0 - 1.0
        env = 0.2 + 0.8 * (0.5 - 0.5 * math.cos(2.0 * math.pi * 1.3 * t))
        x = env * (0.4 * math.sin(2.0 * math.pi * 220.0 * t)
                   + 0.2 * math.sin(2.0 * math.pi * (300.0 + 1500.0 * t) * t)
                   + 0.1 * math.sin(2.0 * math.pi * 3100.0 * t)) + 0.02 * u
        if t >= 0.8 * dur:
            x *= 1e-3
        out[i] = x
    return out


def librosa_like_stft(y, n_fft, hop, window, pad_mode):
    """librosa.stft's math (center=True): pad n_fft//2 each side, frame, window, rfft."""
    yp = np.pad(y, n_fft // 2, mode=pad_mode)
    frames = 1 + (len(yp) - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    return np.fft.rfft(yp[idx] * window[None, :], axis=1).T  # (freq, frames)


def ds2():
    sr, n = 16000, 19750  # not a multiple of the hop: frames = 1 + n // 160 = 124
    y = test_signal(n, sr, seed=12345)
    scalars['ds2_n'] = n
    scalars['ds2_seed'] = 12345
    scalars['ds2_check_index'] = [0, 1, 2, 100, 1234, 5000, 9999, 15799, 15800, 19749]
    scalars['ds2_check_values'] = [float(y[i]) for i in scalars['ds2_check_index']]

    x = torch.from_numpy(y).double()
    window = torch.hamming_window(320, periodic=True, dtype=torch.float64)
    # scipy's 'hamming' with fftbins=True (librosa's get_window) is torch's periodic Hamming
    assert np.allclose(window.numpy(), scipy.signal.get_window('hamming', 320, fftbins=True), atol=1e-15)
    D = torch.stft(x, 320, hop_length=160, win_length=320, window=window, center=True, pad_mode='reflect',
                   return_complex=True)  # (161, 124)
    ref = librosa_like_stft(y.astype(np.float64), 320, 160, window.numpy(), 'reflect')
    assert np.abs(D.numpy() - ref).max() < 1e-9, 'torch.stft and librosa framing disagree'
    S = torch.log1p(D.abs())
    mean, std = S.mean(), S.std()  # torch.std is unbiased (N - 1), as deepspeech.pytorch's spect.std()
    save('ds2_spec', ((S - mean) / std).float())
    scalars['ds2_mean'] = mean.item()
    scalars['ds2_std'] = std.item()
    # the same with zero padding (librosa >= 0.9 default), to test the option
    Dc = torch.stft(x, 320, hop_length=160, window=window, center=True, pad_mode='constant', return_complex=True)
    Sc = torch.log1p(Dc.abs())
    save('ds2_spec_constant', ((Sc - Sc.mean()) / Sc.std()).float())


def fbanks():
    fb = AF.melscale_fbanks(706, 0.0, 22050.0, 64, 44100, norm='slaney', mel_scale='slaney')  # (706, 64) float32
    save('melfb_rdal', fb)
    fb2 = AF.melscale_fbanks(201, 50.0, 7600.0, 40, 16000, norm=None, mel_scale='htk')  # (201, 40)
    save('melfb_htk', fb2)


def rdal():
    sr, n = 44100, 44100  # 1 s → 100 frames (odd n_fft pads 705 a side: 1 + (44100 - 1) // 441)
    y = test_signal(n, sr, seed=777)
    scalars['rdal_n'] = n
    scalars['rdal_seed'] = 777
    scalars['rdal_check_index'] = [0, 1, 2, 100, 4410, 22050, 35279, 35280, 44099]
    scalars['rdal_check_values'] = [float(y[i]) for i in scalars['rdal_check_index']]
    x = torch.from_numpy(y)  # float32, as the reference pipeline
    window = torch.hamming_window(1411, periodic=True)
    D = torch.stft(x, 1411, hop_length=441, win_length=1411, window=window, center=True, pad_mode='constant',
                   return_complex=True)  # (706, 100)
    power = D.abs() ** 2
    mel = AT.MelScale(n_mels=64, sample_rate=44100, n_stft=706, norm='slaney', mel_scale='slaney')(power)
    db = AT.AmplitudeToDB(stype='power', top_db=80)(mel.unsqueeze(0))[0]  # (64, 100), per-clip floor
    save('rdal_logmel', db)
    scalars['rdal_logmel_floor_fraction'] = float((db == db.max() - 80).float().mean())
    # float64 pipeline, to report how far float32 is from the exact values
    D64 = torch.stft(x.double(), 1411, hop_length=441, window=window.double(), center=True, pad_mode='constant',
                     return_complex=True)
    fb64 = AF.melscale_fbanks(706, 0.0, 22050.0, 64, 44100, norm='slaney', mel_scale='slaney').double()
    mel64 = (D64.abs() ** 2).transpose(0, 1).matmul(fb64).transpose(0, 1)
    db64 = AF.amplitude_to_DB(mel64.unsqueeze(0), 10.0, 1e-10, 0.0, 80.0)[0]
    scalars['rdal_logmel_f32_vs_f64_max_db'] = float((db.double() - db64).abs().max())


def main():
    os.makedirs(OUT, exist_ok=True)
    ds2()
    fbanks()
    rdal()
    with open(os.path.join(OUT, 'audio.json'), 'w') as f:
        json.dump({'arrays': arrays, 'scalars': scalars}, f, indent=1)
    with open(os.path.join(OUT, 'PROVENANCE.md'), 'w') as f:
        f.write('# test/fixtures/audio\n\n'
                f'Generated by `/usr/bin/python3 scripts/goldens/audio.py` with torch {torch.__version__}, '
                f'torchaudio {torchaudio.__version__}, numpy {np.__version__}, scipy {scipy.__version__} '
                f'on {datetime.date.today().isoformat()}. Raw little-endian float32 arrays; names and shapes '
                'in audio.json. Test signals come from the formula in the script (mirrored by '
                'src/audio/testing.ts), so no audio is stored.\n')
    print(json.dumps(scalars, indent=1))


if __name__ == '__main__':
    main()

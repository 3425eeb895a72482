"""Audio cases of the PyTorch peer, as bench/audio.ts: aten::stft on a 10 s clip, and the DS2 front-end
(src/audio/functional.ts ds2Spectrogram: |STFT 320/160|, log1p, per-utterance mean/std), float32."""
import math

import torch


def _signal(n, sample_rate, seed):
    """Any deterministic test signal will do for timing (earmark's is src/audio/testing.ts testSignal)."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n, dtype=torch.float64) / sample_rate
    x = 0.4 * torch.sin(2 * math.pi * 220 * t) + 0.1 * torch.randn(n, generator=g, dtype=torch.float64)
    return x.float()


def stft(n=160000, n_fft=320, hop=160, sample_rate=16000):
    x = _signal(n, sample_rate, 1)
    window = torch.hamming_window(n_fft, periodic=True)

    def step():
        spec = torch.stft(x, n_fft, hop, n_fft, window, center=True, pad_mode='reflect', normalized=False,
                          onesided=True, return_complex=True)
        torch.view_as_real(spec)

    return step


def ds2_spectrogram(n=160000, n_fft=320, hop=160, sample_rate=16000):
    """Copies in and out included, as earmark's row (waveform array → tensor → features → array)."""
    data = _signal(n, sample_rate, 1).numpy()
    window = torch.hamming_window(n_fft, periodic=True)

    def step():
        x = torch.tensor(data)
        spec = torch.stft(x, n_fft, hop, n_fft, window, center=True, pad_mode='reflect', onesided=True,
                          return_complex=True)
        log_mag = spec.abs().log1p()
        mean = log_mag.mean((-2, -1), keepdim=True)
        std = log_mag.std((-2, -1), unbiased=True, keepdim=True).clamp(1e-10)
        (log_mag - mean).div_(std).numpy().copy()

    return step


CASES = {'stft': stft, 'ds2_spectrogram': ds2_spectrogram}

"""Golden values for src/audio/mcadams.ts: librosa.lpc (Burg; transcribed from librosa 0.10
`__lpc`, numpy only) and VPC `anonym_v2` (anonymise_dir_mcadams_rand_seed.py) with a periodic Hann and
no peak normalisation (earmark's documented deviations). Run: /usr/bin/python3 scripts/goldens/mcadams.py"""
import json, math, os, sys
import numpy as np
import scipy.signal

sys.path.insert(0, os.path.dirname(__file__))
from audio import test_signal  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'mcadams')


def lpc_burg(y, order):
    dtype = y.dtype.type
    ar = np.zeros(order + 1, dtype=dtype); ar[0] = 1
    ar_prev = np.copy(ar)
    eps = np.finfo(y.dtype).tiny
    fwd = y[1:]; bwd = y[:-1]
    den = np.dot(fwd, fwd) + np.dot(bwd, bwd)
    for i in range(order):
        k = -2 * np.dot(bwd, fwd) / (den + eps)
        ar_prev, ar = ar, ar_prev
        for j in range(1, i + 2):
            ar[j] = ar_prev[j] + k * ar_prev[i - j + 1]
        tmp = fwd
        fwd = fwd + k * bwd
        bwd = bwd + k * tmp
        den = (1 - k ** 2) * den - bwd[-1] ** 2 - fwd[0] ** 2
        fwd = fwd[1:]; bwd = bwd[:-1]
    return ar


def anonym(samples, alpha, sr=16000):
    eps = np.finfo(np.float32).eps
    samples = samples.astype(np.float64) + eps
    win, shift = int(0.02 * sr), int(0.01 * sr)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)  # periodic
    w = np.sqrt(hann / (hann.sum() / shift))
    n = len(samples)
    frames = 1 + (n - win) // shift
    out = np.zeros(n)
    for m in range(frames):
        frame = samples[m * shift:m * shift + win] * w
        a = lpc_burg(frame + eps, 20)
        poles = np.roots(a)
        new = poles.copy()
        for i, p in enumerate(poles):
            if abs(p.imag) > 1e-10 * abs(p):
                phi = np.angle(p)
                new[i] = abs(p) * np.exp(1j * np.sign(phi) * abs(phi) ** alpha)
        a_new = np.real(np.poly(new))
        res = scipy.signal.lfilter(a, np.array([1.0]), frame)
        rec = scipy.signal.lfilter(np.array([1.0]), a_new, res) * w
        out[m * shift:m * shift + win] += rec
    return out.astype(np.float32)


x = test_signal(1600, 16000, 7)
frame = x[400:720].astype(np.float64)
a = lpc_burg(frame, 20)
y = anonym(x, 0.8)
os.makedirs(OUT, exist_ok=True)
json.dump({'seed': 7, 'n': 1600, 'frameStart': 400, 'lpc20': a.tolist(),
           'roots': sorted([[float(r.real), float(r.imag)] for r in np.roots(a)]),
           'alpha': 0.8, 'anonym': [float(v) for v in y]}, open(os.path.join(OUT, 'mcadams.json'), 'w'))
with open(os.path.join(OUT, 'PROVENANCE.md'), 'w') as f:
    f.write(f'mcadams.json: scripts/goldens/mcadams.py, numpy {np.__version__}, scipy {scipy.__version__}, generated 2026-11-21\n')
print('ok', a[:3], y[500:503])

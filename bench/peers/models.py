"""PyTorch twins of earmark's CycleGAN-VC2 generator and DeepSpeech2 classifier, for the bench peers.

Layer for layer the same as src/models/cyclegan-vc2.ts and src/models/deepspeech2.ts (which follow
jackaduma/CycleGAN-VC2 `model_tf.py` and SeanNaren/deepspeech.pytorch `model.py`), so that a training step
here does the same ATen work as earmark's. Only speed is compared: weights are torch's default init.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F

CYCLEGAN_VC2_PRESETS = {  # (channels C, residual blocks R), as CYCLEGAN_VC2_PRESETS in cyclegan-vc2.ts
    'obfuscator': (32, 3),
    'deobfuscator': (128, 6),
    'cpu-obfuscator': (16, 2),
    'cpu-deobfuscator': (32, 3),
}

DS2_PRESETS = {  # (conv channels, RNN layers, hidden size), as DS2_PRESETS in deepspeech2.ts
    'paper': (16, 5, 64),
    'cpu': (8, 2, 48),
}


class DownSample(nn.Module):
    """a · σ(gate), both branches Conv2d(5, stride 2) + InstanceNorm2d."""

    def __init__(self, cin, cout):
        super().__init__()
        def branch():
            return nn.Sequential(nn.Conv2d(cin, cout, 5, stride=2, padding=2), nn.InstanceNorm2d(cout, affine=True))

        self.convLayer = branch()
        self.convLayer_gates = branch()

    def forward(self, x):
        return self.convLayer(x) * torch.sigmoid(self.convLayer_gates(x))


class ResidualLayer(nn.Module):
    """x + IN(Conv1d(IN(Conv1d(x)) · σ(IN(Conv1d_gate(x)))))."""

    def __init__(self, c):
        super().__init__()
        def branch(cin, cout):
            return nn.Sequential(nn.Conv1d(cin, cout, 3, padding=1), nn.InstanceNorm1d(cout, affine=True))

        self.conv1d_layer = branch(c, 2 * c)
        self.conv_layer_gates = branch(c, 2 * c)
        self.conv1d_out_layer = branch(2 * c, c)

    def forward(self, x):
        h = self.conv1d_layer(x) * torch.sigmoid(self.conv_layer_gates(x))
        return x + self.conv1d_out_layer(h)


class UpSample(nn.Sequential):
    """Conv2d → PixelShuffle(2) → IN → SiLU."""

    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cout, 5, padding=2), nn.PixelShuffle(2),
                         nn.InstanceNorm2d(cout // 4, affine=True))

    def forward(self, x):
        return F.silu(super().forward(x))


class CycleGanVc2Generator(nn.Module):
    """(B, H, T) → (B, H, T); latent(x) is F_γ after the 2D→1D conv (the spec's default stage)."""

    def __init__(self, preset, n_freq=161):
        super().__init__()
        c, r = CYCLEGAN_VC2_PRESETS[preset]
        self.c, self.n_freq = c, n_freq
        self.padded_freq = math.ceil(n_freq / 4) * 4
        self.latent_freq = self.padded_freq // 4
        flat = c * self.latent_freq
        self.conv1 = nn.Conv2d(1, c // 2, (5, 15), padding=(2, 7))
        self.conv1_gates = nn.Conv2d(1, c // 2, (5, 15), padding=(2, 7))
        self.downSample1 = DownSample(c // 2, c)
        self.downSample2 = DownSample(c, c)
        self.conv2dto1dLayer = nn.Conv1d(flat, c, 1)
        self.conv2dto1dLayer_tfan = nn.InstanceNorm1d(c, affine=True)
        self.residualLayers = nn.ModuleList([ResidualLayer(c) for _ in range(r)])
        self.conv1dto2dLayer = nn.Conv1d(c, flat, 1)
        self.conv1dto2dLayer_tfan = nn.InstanceNorm1d(flat, affine=True)
        self.upSample1 = UpSample(c, 4 * c)
        self.upSample2 = UpSample(c, 2 * c)
        self.lastConvLayer = nn.Conv2d(c // 2, 1, (5, 15), padding=(2, 7))

    def _pad(self, x):
        pad_t = (4 - x.size(2) % 4) % 4
        return F.pad(x, [0, pad_t, 0, self.padded_freq - self.n_freq]).unsqueeze(1)

    def _encode2d(self, x):
        h = self.conv1(x) * torch.sigmoid(self.conv1_gates(x))
        return self.downSample2(self.downSample1(h))

    def _to1d(self, h):
        b, c, f, t = h.shape
        return self.conv2dto1dLayer_tfan(self.conv2dto1dLayer(h.reshape(b, c * f, t)))

    def forward(self, x):
        n_freq, t = x.size(1), x.size(2)
        h = self._to1d(self._encode2d(self._pad(x)))
        for layer in self.residualLayers:
            h = layer(h)
        h = self.conv1dto2dLayer_tfan(self.conv1dto2dLayer(h))
        h = h.reshape(h.size(0), self.c, self.latent_freq, h.size(2))
        h = self.upSample2(self.upSample1(h))
        y = self.lastConvLayer(h).squeeze(1)
        return y.narrow(1, 0, n_freq).narrow(2, 0, t)

    def latent(self, x):
        return self._to1d(self._encode2d(self._pad(x)))


class SequenceWise(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        t, b = x.shape[:2]
        return self.module(x.reshape(t * b, -1)).reshape(t, b, -1)


class BatchRNN(nn.Module):
    def __init__(self, input_size, hidden_size, batch_norm):
        super().__init__()
        self.batch_norm = SequenceWise(nn.BatchNorm1d(input_size)) if batch_norm else None
        self.rnn = nn.LSTM(input_size, hidden_size, bidirectional=True)

    def forward(self, x):
        if self.batch_norm is not None:
            x = self.batch_norm(x)
        y, _ = self.rnn(x)
        t, b = y.shape[:2]
        return y.view(t, b, 2, -1).sum(2)


class DeepSpeech2(nn.Module):
    """(B, 161, T) → per-step logits (B, ⌈T/2⌉, K)."""

    def __init__(self, preset, num_classes, n_freq=161):
        super().__init__()
        ch, layers, hidden = DS2_PRESETS[preset]
        self.conv = nn.Sequential(
            nn.Conv2d(1, ch, (41, 11), stride=(2, 2), padding=(20, 5)), nn.BatchNorm2d(ch), nn.Hardtanh(0, 20),
            nn.Conv2d(ch, ch, (21, 11), stride=(2, 1), padding=(10, 5)), nn.BatchNorm2d(ch), nn.Hardtanh(0, 20))
        freq = (n_freq + 2 * 20 - 41) // 2 + 1
        freq = (freq + 2 * 10 - 21) // 2 + 1  # 161 → 81 → 41
        self.rnns = nn.ModuleList([BatchRNN(ch * freq if i == 0 else hidden, hidden, i > 0) for i in range(layers)])
        self.fc = SequenceWise(nn.Sequential(nn.BatchNorm1d(hidden), nn.Linear(hidden, num_classes, bias=False)))

    def forward(self, x):
        h = self.conv(x.unsqueeze(1))
        b, c, f, t = h.shape
        h = h.reshape(b, c * f, t).permute(2, 0, 1)
        for rnn in self.rnns:
            h = rnn(h)
        return self.fc(h).transpose(0, 1)

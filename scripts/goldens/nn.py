#!/usr/bin/python3
"""Golden values for earmark's nn layers and losses, from PyTorch 1.13 (float32, CPU).

Run: /usr/bin/python3 scripts/goldens/nn.py   (writes test/fixtures/nn/)

For each case: <case>.bin holds every tensor little-endian back to back; <case>.json lists them
({dtype, shape, offset} in bytes) with the layer config and its state-dict keys in torch's order.
Tensor names: input, target, h0/c0 (initial states), state.<key> (weights loaded before the forward),
output (and h, c for RNNs), probe.<out> (fixed random tensor), grad.input / grad.<key> / grad.h0 ...
(gradients of sum_i sum(out_i * probe.out_i)), after.<key> (buffers after the forward, e.g. BatchNorm's
running stats in training). keys.json holds the state-dict keys of a few more module configurations.
"""
import datetime
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'nn')
torch.set_num_threads(1)


def write(case, tensors, config, keys=()):
    blob = bytearray()
    index = {}
    for name, t in tensors.items():
        a = t.detach().contiguous().numpy()
        dtype = {np.float32: 'float32', np.float64: 'float64', np.int64: 'int64'}[a.dtype.type]
        index[name] = {'dtype': dtype, 'shape': list(a.shape), 'offset': len(blob)}
        blob += a.astype(a.dtype.newbyteorder('<')).tobytes()
    with open(os.path.join(OUT, case + '.bin'), 'wb') as f:
        f.write(blob)
    with open(os.path.join(OUT, case + '.json'), 'w') as f:
        json.dump({'case': case, 'torch': torch.__version__, 'config': config, 'keys': list(keys), 'tensors': index}, f, indent=1)
        f.write('\n')
    print(f'{case}: {len(blob)} bytes')


def randomize(module):
    """Replace default weights (ones/zeros for norms) by random ones so the goldens exercise them."""
    with torch.no_grad():
        for k, v in module.state_dict().items():
            if v.dtype.is_floating_point:
                if k.endswith('running_var'):
                    v.copy_(torch.rand_like(v) + 0.5)
                else:
                    v.copy_(torch.randn_like(v) * 0.5)


def layer_case(case, module, x, config, extra_inputs=None, train=True, forward=None):
    """Forward `module` on x, then backprop sum(out * probe) to the input, the weights and extra inputs."""
    module.train(train)
    state = {k: v.clone() for k, v in module.state_dict().items()}
    x = x.clone().requires_grad_(True)
    extra = {k: v.clone().requires_grad_(True) for k, v in (extra_inputs or {}).items()}
    outs = forward(module, x, extra) if forward else {'output': module(x)}
    probes = {k: torch.randn_like(v) for k, v in outs.items()}
    sum(((outs[k] * probes[k]).sum() for k in outs), torch.zeros(())).backward()
    tensors = {'input': x}
    tensors.update(extra)
    tensors.update({'state.' + k: v for k, v in state.items()})
    tensors.update(outs)
    tensors.update({'probe.' + k: v for k, v in probes.items()})
    tensors['grad.input'] = x.grad
    for k, v in extra.items():
        tensors['grad.' + k] = v.grad
    for k, p in module.named_parameters():
        tensors['grad.' + k] = p.grad
    for k, b in module.named_buffers():
        tensors['after.' + k] = b
    write(case, tensors, config, module.state_dict().keys())


def loss_case(case, fn, x, target, config, weight=None):
    x = x.clone().requires_grad_(True)
    out = fn(x, target)
    probe = torch.randn_like(out)
    (out * probe).sum().backward()
    tensors = {'input': x, 'target': target, 'output': out, 'probe.output': probe, 'grad.input': x.grad}
    if weight is not None:
        tensors['weight'] = weight
    write(case, tensors, config)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(1234)

    layer_case('linear', nn.Linear(6, 4), torch.randn(3, 6), {'inFeatures': 6, 'outFeatures': 4})
    layer_case('conv1d_reflect', nn.Conv1d(4, 5, 3, stride=2, padding=1, padding_mode='reflect'), torch.randn(2, 4, 11),
               {'inChannels': 4, 'outChannels': 5, 'kernelSize': 3, 'stride': 2, 'padding': 1, 'paddingMode': 'reflect'})
    layer_case('conv2d', nn.Conv2d(3, 4, (3, 5), stride=(2, 1), padding=(1, 2)), torch.randn(2, 3, 7, 9),
               {'inChannels': 3, 'outChannels': 4, 'kernelSize': [3, 5], 'stride': [2, 1], 'padding': [1, 2]})
    layer_case('conv2d_groups', nn.Conv2d(4, 6, 3, groups=2, dilation=2, bias=False, padding='same'), torch.randn(2, 4, 6, 7),
               {'inChannels': 4, 'outChannels': 6, 'kernelSize': 3, 'groups': 2, 'dilation': 2, 'bias': False, 'padding': 'same'})
    layer_case('conv_transpose2d', nn.ConvTranspose2d(4, 6, (4, 3), stride=(2, 1), padding=(1, 1), output_padding=(1, 0), groups=2),
               torch.randn(2, 4, 5, 6),
               {'inChannels': 4, 'outChannels': 6, 'kernelSize': [4, 3], 'stride': [2, 1], 'padding': [1, 1], 'outputPadding': [1, 0], 'groups': 2})

    m = nn.InstanceNorm2d(4, affine=True)
    randomize(m)
    layer_case('instance_norm2d', m, torch.randn(2, 4, 5, 6) * 2 + 1, {'numFeatures': 4, 'affine': True})

    m = nn.BatchNorm2d(4, momentum=0.2)
    randomize(m)
    layer_case('batch_norm2d_train', m, torch.randn(3, 4, 5, 6) * 2 + 1, {'numFeatures': 4, 'momentum': 0.2}, train=True)
    m = nn.BatchNorm2d(4)
    randomize(m)
    layer_case('batch_norm2d_eval', m, torch.randn(3, 4, 5, 6) * 2 + 1, {'numFeatures': 4}, train=False)
    m = nn.BatchNorm1d(5, momentum=None)
    randomize(m)
    m.num_batches_tracked.fill_(3)  # cumulative average: factor 1/4 on this step
    layer_case('batch_norm1d_cumulative', m, torch.randn(4, 5, 3), {'numFeatures': 5, 'momentum': None}, train=True)

    m = nn.LayerNorm([4, 5])
    randomize(m)
    layer_case('layer_norm', m, torch.randn(3, 4, 5), {'normalizedShape': [4, 5]})

    def lstm_forward(mod, x, extra):
        out, (h, c) = mod(x, (extra['h0'], extra['c0']))
        return {'output': out, 'h': h, 'c': c}
    layer_case('lstm_bidir2_batchfirst', nn.LSTM(5, 6, num_layers=2, bidirectional=True, batch_first=True), torch.randn(3, 4, 5),
               {'inputSize': 5, 'hiddenSize': 6, 'numLayers': 2, 'bidirectional': True, 'batchFirst': True},
               extra_inputs={'h0': torch.randn(4, 3, 6), 'c0': torch.randn(4, 3, 6)}, forward=lstm_forward)

    def gru_forward(mod, x, extra):
        out, h = mod(x)
        return {'output': out, 'h': h}
    layer_case('gru2', nn.GRU(5, 6, num_layers=2), torch.randn(4, 3, 5),
               {'inputSize': 5, 'hiddenSize': 6, 'numLayers': 2}, forward=gru_forward)

    layer_case('pixel_shuffle', nn.PixelShuffle(2), torch.randn(2, 8, 3, 4), {'upscaleFactor': 2})
    layer_case('glu', nn.GLU(1), torch.randn(2, 6, 5), {'dim': 1})
    layer_case('max_pool2d', nn.MaxPool2d((2, 3), stride=2, padding=1), torch.randn(2, 3, 7, 8),
               {'kernelSize': [2, 3], 'stride': 2, 'padding': 1})

    # dropout masks come from the same CPU generator in libtorch: seed 7 then one dropout call
    x = torch.randn(4, 6)
    torch.manual_seed(7)
    write('dropout_seed7', {'input': x, 'output': F.dropout(x, 0.3, True)}, {'p': 0.3, 'seed': 7})

    # losses
    logits = torch.randn(6, 5)
    hard = torch.tensor([0, 3, 4, -100, 1, 3])
    w = torch.rand(5) + 0.5
    loss_case('ce_hard', lambda x, t: F.cross_entropy(x, t, weight=w, label_smoothing=0.1), logits, hard,
              {'labelSmoothing': 0.1, 'ignoreIndex': -100, 'reduction': 'mean'}, weight=w)
    logits3 = torch.randn(2, 5, 3)
    hard3 = torch.randint(0, 5, (2, 3))
    loss_case('ce_hard_none', lambda x, t: F.cross_entropy(x, t, reduction='none'), logits3, hard3, {'reduction': 'none'})
    soft = torch.softmax(torch.randn(6, 5) * 2, dim=1)
    loss_case('ce_soft', lambda x, t: F.cross_entropy(x, t, weight=w, label_smoothing=0.2), logits, soft,
              {'labelSmoothing': 0.2, 'reduction': 'mean'}, weight=w)
    pw = torch.rand(4) + 0.5
    loss_case('bce_logits', lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=pw), torch.randn(3, 4) * 3, torch.rand(3, 4),
              {'reduction': 'mean'}, weight=pw)
    loss_case('mse_sum', lambda x, t: F.mse_loss(x, t, reduction='sum'), torch.randn(3, 4), torch.randn(3, 4), {'reduction': 'sum'})
    loss_case('l1', lambda x, t: F.l1_loss(x, t), torch.randn(3, 4), torch.randn(3, 4), {'reduction': 'mean'})

    # state-dict keys of more configurations (the TS tests compare key lists and order)
    keys = {
        'sequential': nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout2d(0.1), nn.Conv2d(4, 2, 1, bias=False)),
        'instance_norm1d_tracked': nn.InstanceNorm1d(3, affine=True, track_running_stats=True),
        'instance_norm2d_plain': nn.InstanceNorm2d(3),
        'batch_norm1d_noaffine': nn.BatchNorm1d(3, affine=False),
        'lstm_nobias': nn.LSTM(3, 4, bias=False),
        'gru_bidir2': nn.GRU(3, 4, num_layers=2, bidirectional=True),
        'conv_transpose2d': nn.ConvTranspose2d(2, 3, 3),
        'layer_norm_noaffine': nn.LayerNorm(4, elementwise_affine=False),
        'prelu': nn.PReLU(3),
    }
    with open(os.path.join(OUT, 'keys.json'), 'w') as f:
        json.dump({k: {kk: list(v.shape) for kk, v in m.state_dict().items()} for k, m in keys.items()}, f, indent=1)
        f.write('\n')

    with open(os.path.join(OUT, 'PROVENANCE.md'), 'w') as f:
        f.write(f'Generated by `/usr/bin/python3 scripts/goldens/nn.py` with torch {torch.__version__} (CPU, float32, seed 1234) '
                f'on {datetime.date.today().isoformat()}. See the script\'s docstring for the file format.\n')


if __name__ == '__main__':
    main()

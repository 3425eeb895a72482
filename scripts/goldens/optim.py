"""Goldens for src/optim: parameters after 1..3 steps of SGD/Adam/AdamW (torch 1.13 single-tensor
code paths, foreach=False), clip_grad_norm_/clip_grad_value_ outputs, and StepLR /
ReduceLROnPlateau learning-rate sequences.

Gradients are set by hand (p.grad = ...) so the goldens test the update rules, not autograd.
Step 3's gradients are scaled down so amsgrad's running maximum differs from the second moment.

Run: /usr/bin/python3 scripts/goldens/optim.py   (writes test/fixtures/optim/optim.json)
"""
import json
import math
import os

import torch

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'optim')

torch.manual_seed(1234)
SHAPES = {'weight': [3, 4], 'bias': [3]}
INIT = {k: torch.randn(s) for k, s in SHAPES.items()}
GRAD_SCALES = [1.0, 0.5, 0.01]
GRADS = [{k: torch.randn(s) * c for k, s in SHAPES.items()} for c in GRAD_SCALES]

# name -> (class, kwargs, per-group overrides for [weight], [bias] or None for one group)
OPTIMIZERS = {
    'sgd': ('SGD', {'lr': 0.1}, None),
    'sgd_momentum_nesterov_wd': ('SGD', {'lr': 0.1, 'momentum': 0.9, 'nesterov': True, 'weight_decay': 0.01}, None),
    'sgd_momentum_dampening_wd': ('SGD', {'lr': 0.05, 'momentum': 0.8, 'dampening': 0.3, 'weight_decay': 0.1}, None),
    'sgd_maximize': ('SGD', {'lr': 0.1, 'momentum': 0.5, 'maximize': True}, None),
    'sgd_groups': ('SGD', {'lr': 0.1, 'momentum': 0.9}, [{}, {'lr': 0.01, 'momentum': 0.0}]),
    'adam': ('Adam', {'lr': 0.01}, None),
    'adam_wd_amsgrad': ('Adam', {'lr': 0.01, 'betas': [0.8, 0.95], 'eps': 1e-6, 'weight_decay': 0.1, 'amsgrad': True}, None),
    'adam_groups_maximize': ('Adam', {'lr': 0.02, 'maximize': True}, [{}, {'lr': 0.001, 'betas': [0.5, 0.9]}]),
    'adamw': ('AdamW', {'lr': 0.01}, None),
    'adamw_amsgrad': ('AdamW', {'lr': 0.01, 'betas': [0.85, 0.99], 'weight_decay': 0.05, 'amsgrad': True}, None),
}


def flat(t):
    return t.detach().reshape(-1).tolist()


def run_optimizer(cls_name, kwargs, groups):
    params = [INIT[k].clone().requires_grad_(True) for k in SHAPES]
    cls = getattr(torch.optim, cls_name)
    kw = dict(kwargs, foreach=False)
    if 'betas' in kw:
        kw['betas'] = tuple(kw['betas'])
    if groups is None:
        opt = cls(params, **kw)
    else:
        pg = [dict(g, params=[p]) for g, p in zip(groups, params)]
        for g in pg:
            if 'betas' in g:
                g['betas'] = tuple(g['betas'])
        opt = cls(pg, **kw)
    after = []
    for g in GRADS:
        for p, k in zip(params, SHAPES):
            p.grad = g[k].clone()
        opt.step()
        after.append([flat(p) for p in params])
    return {'class': cls_name, 'kwargs': kwargs, 'groups': groups, 'after': after}


def clip_cases():
    torch.manual_seed(99)
    grads = [torch.randn(3, 4), torch.randn(5)]
    out = {'grads': [flat(g) for g in grads], 'shapes': [[3, 4], [5]], 'norm': [], 'value': []}
    for max_norm, norm_type in [(1.0, 2.0), (0.5, 1.0), (1.0, math.inf), (2.0, 3.0), (100.0, 2.0)]:
        ps = [torch.zeros(g.shape, requires_grad=True) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
        out['norm'].append({'maxNorm': max_norm, 'normType': 'inf' if math.isinf(norm_type) else norm_type,
                            'total': total.item(), 'clipped': [flat(p.grad) for p in ps]})
    for clip_value in [0.5]:
        ps = [torch.zeros(g.shape, requires_grad=True) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = g.clone()
        torch.nn.utils.clip_grad_value_(ps, clip_value)
        out['value'].append({'clipValue': clip_value, 'clipped': [flat(p.grad) for p in ps]})
    return out


def step_lr():
    p = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    opt = torch.optim.SGD([{'params': [p[0]]}, {'params': [p[1]], 'lr': 0.02}], lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    lrs = []
    for _ in range(10):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    return {'lrs': [0.1, 0.02], 'stepSize': 3, 'gamma': 0.5, 'sequence': lrs}


METRICS = [1.0, 0.9, 0.95, 0.91, 0.905, 0.899, 0.95, 0.96, 0.97, 0.97,
           0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6]
PLATEAU = [
    {'mode': 'min', 'factor': 0.5, 'patience': 2, 'threshold': 0.01, 'threshold_mode': 'rel', 'cooldown': 1, 'min_lr': 0.01},
    {'mode': 'max', 'factor': 0.1, 'patience': 1, 'threshold': 0.05, 'threshold_mode': 'abs', 'cooldown': 0, 'min_lr': 1e-4},
    {'mode': 'min', 'factor': 0.3, 'patience': 0, 'threshold': 0.0, 'threshold_mode': 'abs', 'cooldown': 2, 'min_lr': 0.0},
]


def plateau():
    cases = []
    for cfg in PLATEAU:
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **cfg)
        lrs = []
        for m in METRICS:
            opt.step()
            sched.step(m)
            lrs.append(opt.param_groups[0]['lr'])
        cases.append({'config': cfg, 'sequence': lrs})
    return {'lr': 0.1, 'metrics': METRICS, 'cases': cases}


def main():
    os.makedirs(OUT, exist_ok=True)
    golden = {
        'torch': torch.__version__,
        'shapes': [SHAPES[k] for k in SHAPES],
        'init': [flat(INIT[k]) for k in SHAPES],
        'grads': [[flat(g[k]) for k in SHAPES] for g in GRADS],
        'optimizers': {name: run_optimizer(*cfg) for name, cfg in OPTIMIZERS.items()},
        'clip': clip_cases(),
        'stepLR': step_lr(),
        'plateau': plateau(),
    }
    with open(os.path.join(OUT, 'optim.json'), 'w') as f:
        json.dump(golden, f)
        f.write('\n')


if __name__ == '__main__':
    main()

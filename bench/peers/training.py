"""Training-step cases of the PyTorch peer: the opt-in step of src/methods/obfuscator.ts and the DS2 target
step of src/methods/classifier.ts, op for op, on a fixed random batch (16 × 161 × 128 by default)."""
import torch
import torch.nn.functional as F
from torch.nn.utils import clip_grad_norm_

from models import CycleGanVc2Generator, DeepSpeech2


def _optimizer(kind, params, lr, momentum, weight_decay=0.0):
    if kind == 'adam':
        return torch.optim.Adam(params, lr=lr)
    if kind == 'adamw':
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if kind == 'sgd':
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    raise ValueError(f"optimizer must be 'adam', 'adamw' or 'sgd', got {kind!r}")


def optin_step(obf='obfuscator', deobf='deobfuscator', ds2='paper', optimizer='adam', lr=1e-3, momentum=0.9,
               max_norm=10.0, batch=16, frames=128, num_classes=16, lambda_t=1.0, lambda_p=1.0):
    """One opt-in step: the deobfuscator step (L_a), then the obfuscator step (L_σ = λ_t·L_t − λ_p·L_p)
    through the frozen target, each with zero_grad(set_to_none), clipping and a host sync, as earmark."""
    torch.manual_seed(0)
    target = DeepSpeech2(ds2, num_classes).requires_grad_(False).eval()
    f_sigma, f_mu = CycleGanVc2Generator(obf), CycleGanVc2Generator(deobf)
    opt_sigma = _optimizer(optimizer, f_sigma.parameters(), lr, momentum)
    opt_mu = _optimizer(optimizer, f_mu.parameters(), lr, momentum)
    x = torch.randn(batch, 161, frames)

    def step():
        with torch.no_grad():
            xt = f_sigma(x)
        la = F.mse_loss(f_mu(xt), x)
        opt_mu.zero_grad(set_to_none=True)
        la.backward()
        clip_grad_norm_(f_mu.parameters(), max_norm)
        opt_mu.step()
        la.item()
        f_mu.requires_grad_(False)
        with torch.no_grad():
            p = target(x)
            zx = f_mu.latent(x)
        xt = f_sigma(x)
        logits = target(xt)
        k = logits.size(-1)
        with torch.no_grad():
            q = p.detach().softmax(-1).reshape(-1, k)
        lt = F.cross_entropy(logits.reshape(-1, k), q)
        lp = (torch.sigmoid(f_mu.latent(xt) - zx) - 0.5).abs().mean()
        ls = lt * lambda_t - lp * lambda_p
        opt_sigma.zero_grad(set_to_none=True)
        ls.backward()
        clip_grad_norm_(f_sigma.parameters(), max_norm)
        opt_sigma.step()
        f_mu.requires_grad_(True)
        lt.item(), lp.item()

    return step


def _vote(logits):
    """Vote counting over per-step argmax, ties to the larger summed probability (deepspeech2.ts voteCount)."""
    b, t, k = logits.shape
    votes = logits.argmax(2).tolist()
    prob = logits.softmax(2).sum(1).tolist()
    out = []
    for i in range(b):
        counts = [0] * k
        for v in votes[i]:
            counts[v] += 1
        out.append(max(range(k), key=lambda c: (counts[c], prob[i][c])))
    return out


def ds2_step(preset='paper', num_classes=16, optimizer='adamw', lr=1e-3, weight_decay=1e-5, momentum=0.9,
             max_norm=400.0, batch=16, frames=128):
    """One target-model step: per-step cross-entropy against the utterance label, clipping, vote counting."""
    torch.manual_seed(0)
    model = DeepSpeech2(preset, num_classes).train()
    opt = _optimizer(optimizer, model.parameters(), lr, momentum, weight_decay)
    x = torch.randn(batch, 161, frames)
    labels = torch.randint(0, num_classes, (batch,))

    def step():
        logits = model(x)
        b, t, k = logits.shape
        loss = F.cross_entropy(logits.reshape(b * t, k), labels.repeat_interleave(t))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        clip_grad_norm_(model.parameters(), max_norm)
        opt.step()
        _vote(logits.detach())
        loss.item()

    return step


CASES = {'optin_step': optin_step, 'ds2_step': ds2_step}

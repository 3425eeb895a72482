// The losses of Wang et al. 2022, named after the paper's symbols, as pure functions.
import { crossEntropy, mseLoss } from '../nn/index.js';
import { noGrad, type Tensor } from '../tensor/index.js';

/**
 * Deobfuscator loss (eq. 1): L_a = MSE(F_μ(X̃), X), mean over all elements.
 * @param recon F_μ(X̃) (B, F, T); @param x X (B, F, T)
 */
export function lossA(recon: Tensor, x: Tensor): Tensor {
  return mseLoss(recon.float(), x.float()); // in float32 under autocast too (bf16/fp16 outputs)
}

/**
 * Target loss (eq. 2): L_t = H(T(X̃), T(X)), soft-target cross-entropy per output step:
 * mean_{n,t} −Σ_k p_k(X) log q_k(X̃), with p = softmax(T(X)) held constant.
 * @param logitsObf T(X̃) (B, T', K); @param logitsClean T(X) (B, T', K)
 */
export function lossT(logitsObf: Tensor, logitsClean: Tensor): Tensor {
  const k = logitsObf.size(-1);
  const p = noGrad(() => logitsClean.detach().float().softmax(-1).reshape([-1, k])); // (B·T', K), float32
  return crossEntropy(logitsObf.float().reshape([-1, k]), p);
}

/**
 * Target loss on T's decision only ('hard' targetLoss, not in the paper): the cross-entropy of every output step
 * of T(X̃) against the crop's decision on clean input, argmax_k mean_t softmax(T(X))_t,k. The soft L_t asks X̃ to
 * keep T's whole posterior, and with it the speakers T confuses X with (who tend to share its gender); this
 * keeps only the decision the user granted.
 * @param logitsObf T(X̃) (B, T', K); @param logitsClean T(X) (B, T', K)
 */
export function lossTHard(logitsObf: Tensor, logitsClean: Tensor): Tensor {
  const [b, t, k] = logitsObf.shape as [number, number, number];
  const label = noGrad(() => logitsClean.detach().float().softmax(-1).mean(1).argmax(-1)); // (B,) int64
  const labels = noGrad(() => label.unsqueeze(1).expand([b, t]).reshape([-1]));
  return crossEntropy(logitsObf.float().reshape([-1, k]), labels);
}

/**
 * Privacy loss (eqs. 3–4): L_p = (1/M) Σ_m D(F_γ(X̃)_m, F_γ(X)_m), D(α, β) = |σ(α − β) − 0.5|,
 * averaged over the batch too. Note D = 0.5·|tanh((α − β)/2)| ∈ [0, 0.5): 0 iff the latents agree.
 * The obfuscator maximises it (minimises λ_t·L_t − λ_p·L_p).
 */
export function lossP(latentObf: Tensor, latentClean: Tensor): Tensor {
  return latentObf.float().sub(latentClean.float()).sigmoid().sub(0.5).abs().mean();
}

/**
 * Reconstruction privacy loss ('reconstruction' privacyLoss, not in the paper): the paper's bounded distance D
 * between F_μ's reconstruction F_μ(X̃) and X itself, averaged over all elements. The obfuscator maximises it, so
 * the co-trained deobfuscator must fail to rebuild X, where the latent L_p only asks that F_γ(X̃) and F_γ(X)
 * differ (F_μ never sees a clean X in training, so its F_γ(X) can differ from F_γ(X̃) while X̃ keeps everything).
 * @param recon F_μ(X̃) (B, F, T); @param x X (B, F, T)
 */
export function lossPRecon(recon: Tensor, x: Tensor): Tensor {
  return lossP(recon, x);
}

/** The obfuscator's objective L_σ = λ_t·L_t − λ_p·L_p. */
export function lossSigma(lt: Tensor, lp: Tensor, lambdaT: number, lambdaP: number): Tensor {
  return lt.mul(lambdaT).sub(lp.mul(lambdaP));
}

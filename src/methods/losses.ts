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
 * Privacy loss (eqs. 3–4): L_p = (1/M) Σ_m D(F_γ(X̃)_m, F_γ(X)_m), D(α, β) = |σ(α − β) − 0.5|,
 * averaged over the batch too. Note D = 0.5·|tanh((α − β)/2)| ∈ [0, 0.5): 0 iff the latents agree.
 * The obfuscator maximises it (minimises λ_t·L_t − λ_p·L_p).
 */
export function lossP(latentObf: Tensor, latentClean: Tensor): Tensor {
  return latentObf.float().sub(latentClean.float()).sigmoid().sub(0.5).abs().mean();
}

/** The obfuscator's objective L_σ = λ_t·L_t − λ_p·L_p. */
export function lossSigma(lt: Tensor, lp: Tensor, lambdaT: number, lambdaP: number): Tensor {
  return lt.mul(lambdaT).sub(lp.mul(lambdaP));
}

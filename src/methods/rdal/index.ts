// RDAL (Gharib et al., OJSP 2024) and its comparison methods: configuration, the supervised attacker
// D^τ, RDAL+M's mask, and the training loop.
export * from './config.js';
export * from './adversary.js';
export * from './mask.js';
export * from './train.js';

// The audio front-end: decoding/encoding and resampling (io), feature functions (functional, mel),
// cached transforms (transforms), and McAdams anonymisation (DSP, no tensors).
export * from './io.js';
export * from './functional.js';
export * from './transforms.js';
export { mcadams, mcadamsAlpha, McAdamsStream, MCADAMS_ALPHA_RANGE, type McAdamsOptions } from './mcadams.js';
export { testSignal, sine } from './testing.js';

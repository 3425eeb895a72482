// The audio front-end: decoding/encoding and resampling (io), feature functions (functional) and
// cached transforms (transforms).
export * from './io.js';
export * from './functional.js';
export * from './transforms.js';
export { testSignal, sine } from './testing.js';

// The scheme's arithmetic is defined in kernels/scheme.ts, beneath the kernels that implement it;
// the quantization layer imports it from here too.
export * from '../kernels/scheme.js';

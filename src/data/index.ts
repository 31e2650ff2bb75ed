export * from './mnist.js';
export * from './models.js';
export * from './random.js';

// The model errors are defined in io/errors.ts, the lowest layer that raises them (reading files
// and weights); the model layer and its callers import them from here too.
export * from '../io/errors.js';

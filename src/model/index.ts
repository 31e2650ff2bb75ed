// Model IO and the graph IR (issue 3).
export * from './ir.js';
export { ModelFormatError, type ModelErrorContext } from './errors.js';
export { loadModel, readModel, graphFromRaw, type LoadOptions, type ModelSource } from './load.js';
export { inferShapes } from './shape-inference.js';
export { execute, executeNamed, constantTensor, disposeConstants, type ExecuteOptions, type GraphInputs } from './execute.js';
export { OPS } from './ops.js';
export { fileIO, readModelFiles, readModelMemory, readModelHandler, toArtifacts, type InMemoryModel, type RawModel } from '../io/files.js';
export { writeFilesAtomic } from '../io/atomic.js';
export { saveTfjs, tfjsFiles, graphModelFiles, layersModelFiles, type SaveTfjsOptions } from './save-tfjs.js';
export { optimize, PASSES, DEFAULT_PASSES, type Pass, type PassName, type OptimizeOptions } from './passes/index.js';

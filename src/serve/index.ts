// tfjs-quant serve: TF Serving's REST API over native sessions, with dynamic batching.
export { createServer, type TfjsQuantServer } from './server.js';
export {
  resolveServeOptions,
  readModelConfig,
  SERVE_DEFAULTS,
  type ServeOptions,
  type ResolvedServeOptions,
  type ModelConfigEntry,
} from './options.js';
export { exitOnSignals } from './shutdown.js';
export { encodeBinary, decodeBinary, BINARY_CONTENT_TYPE } from './binary.js';

export {
  encodeTensor,
  decodeTensorRef,
  tensorCodeFromValues,
  crc32,
  type TensorCode,
  type EncodeOptions,
  type StreamStats,
  type EncodedTensor,
} from './format.js';
export { decodeTensor, CodecError, type Decoded, type DecodeOptions } from './decode.js';
export { huffmanLengths, canonicalCodes, MAX_CODE_LENGTH } from './huffman.js';
export {
  encodeModel,
  decodeModelWeights,
  loadCompressedInto,
  compressionReport,
  formatReport,
  type CompressedModel,
  type CompressedTensor,
  type CompressionReport,
  type LayerReportRow,
  type StageTotals,
  type WeightEncoding,
} from './pipeline.js';
export { deepCompress, type DeepCompressionOptions, type DeepCompressionResult } from './deep-compression.js';
export { buildArtifact, saveArtifact, type CompressedArtifact } from './artifact.js';
export {
  compressGraph,
  type CompressGraphOptions,
  type CompressGraphResult,
  type CompressedWeightRow,
} from './graph.js';

export {
  kmeans1d,
  initCentroids,
  distinctSorted,
  CENTROID_INITS,
  type CentroidInit,
  type KMeansOptions,
  type KMeansResult,
} from './kmeans.js';
export {
  clusterTensor,
  clusterModel,
  fineTuneCentroids,
  labelBits,
  assertBits,
  type ClusteredTensor,
  type ClusterTensorOptions,
  type ClusterModelOptions,
  type LayerClusterConfig,
  type ClusteredWeight,
  type ModelClustering,
  type FineTuneOptions,
} from './cluster.js';

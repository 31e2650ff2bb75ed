// Examples shown at the end of each command's --help: the common cases, runnable as written
// once the paths exist.
const EXAMPLES: Record<string, readonly string[]> = {
  info: ['tfjs-quant info', 'tfjs-quant info --json'],
  inspect: ['tfjs-quant inspect models/mobilenet/model.json', 'tfjs-quant inspect models/mobilenet --json'],
  convert: [
    'tfjs-quant convert models/ -o out/                       # dynamic int8, every model.json under models/',
    'tfjs-quant convert m/model.json -o out/ --mode int8 --calibration calib/',
    'tfjs-quant convert "zoo/**/model.json" -o out/ --mode float16 --jobs 2',
    'tfjs-quant convert m/model.json -o out/ --mode int8 --float-nodes conv_1 --tolerance 0.995 --strict',
    'tfjs-quant convert m/ -o out/ --format tfjs               # stock TF.js loads the result',
  ],
  compress: [
    'tfjs-quant compress lenet/model.json --train data/train --out lenet-dc/',
    'tfjs-quant compress lenet/ --train data/train --validation data/val --out lenet-dc/ --bits 4',
  ],
  bench: [
    'tfjs-quant bench out/m/model.json',
    'tfjs-quant bench m/model.json out/m/model.json --batch 1,32 --threads 1,4 --baselines wasm --json',
  ],
  demo: ['tfjs-quant demo', 'tfjs-quant demo --epochs 1 --runs 10 --json'],
  run: [
    'tfjs-quant run out/m/model.json --input x.npy',
    'tfjs-quant run m/model.json -i image=x.npy -o y.npy --engine tfjs',
    'tfjs-quant run m/model.json -i x.npy --output-dir outs/ --json',
  ],
  serve: [
    'tfjs-quant serve out/mobilenet --port 8501',
    'tfjs-quant serve models.config.json --max-batch 64 --batch-timeout-ms 5',
  ],
  worker: [
    'tfjs-quant worker --queue redis://127.0.0.1:6379',
    'tfjs-quant worker --queue redis://redis.local:6379/2 --concurrency 2',
  ],
};

export function examplesOf(command: string): readonly string[] {
  return EXAMPLES[command] ?? [];
}

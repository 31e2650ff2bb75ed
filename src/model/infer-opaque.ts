// Dtype and shape of the outputs of opaque nodes (ops the IR keeps raw: control flow, tensor
// arrays and lists, Where, and ops the IR does not know), from their TF attributes as
// tfjs-converter runs them. Shapes are known only where the op passes a tensor through; the
// rest stay unknown (null). Never throws: an op it cannot tell gets float32 of unknown shape.
import type { DType } from '../io/weights.js';
import type { Node, TensorInfo } from './ir.js';

const DTYPES: readonly DType[] = ['float32', 'int32', 'bool', 'string'];

function dtypeAttr(n: Node, ...keys: string[]): DType | undefined {
  for (const k of keys) {
    const v = n.attrs[k];
    if (typeof v === 'string' && (DTYPES as string[]).includes(v)) return v as DType;
  }
  return undefined;
}

function dtypeList(n: Node, key: string): DType[] | undefined {
  const v = n.attrs[key];
  return Array.isArray(v) && v.every((d) => typeof d === 'string')
    ? (v as string[]).map((d) => ((DTYPES as string[]).includes(d) ? (d as DType) : 'float32'))
    : undefined;
}

const unknown = (dtype: DType): TensorInfo => ({ dtype, shape: null });
const copy = (t: TensorInfo | undefined): TensorInfo =>
  t ? { dtype: t.dtype, shape: t.shape ? [...t.shape] : null } : unknown('float32');
/** tfjs-converter represents tensor array and list handles (and TensorArray flows) as float32 scalars. */
const HANDLE: TensorInfo = { dtype: 'float32', shape: [] };

/** One TensorInfo per output of n (n.outputs.length of them). */
export function inferOpaque(n: Node, x: TensorInfo[]): TensorInfo[] {
  const count = n.outputs.length;
  const fill = (f: (i: number) => TensorInfo): TensorInfo[] => Array.from({ length: count }, (_, i) => f(i));
  switch (n.op) {
    case 'Switch':
      return fill(() => copy(x[0]));
    case 'Merge': {
      // Branches (or iterations: a loop's Merge also reads its NextIteration) agree on a shape only when every input has it.
      const s0 = x[0]?.shape;
      const same =
        !!s0 && x.every((t) => t.shape && t.shape.length === s0.length && t.shape.every((d, i) => d === s0[i]));
      return fill((i) =>
        i === 0 ? { dtype: x[0]?.dtype ?? 'float32', shape: same ? [...s0!] : null } : { dtype: 'int32', shape: [] },
      );
    }
    case 'Enter':
    case 'Exit':
    case 'NextIteration':
      return fill(() => copy(x[0]));
    case 'LoopCond':
      return fill(() => ({ dtype: 'bool', shape: [] }));
    case 'While':
    case 'StatelessWhile': {
      // The loop carries its inputs: dtypes from T, shapes may change per iteration.
      const T = dtypeList(n, 'T');
      return fill((i) => unknown(T?.[i] ?? x[i]?.dtype ?? 'float32'));
    }
    case 'If':
    case 'StatelessIf': {
      const T = dtypeList(n, 'Tout');
      return fill((i) => unknown(T?.[i] ?? 'float32'));
    }
    case 'Where':
      return fill(() => ({ dtype: 'int32', shape: x[0]?.shape ? [-1, x[0].shape.length] : null }));
    case 'ListDiff':
      return fill((i) => ({ dtype: i === 0 ? (x[0]?.dtype ?? 'float32') : 'int32', shape: [-1] }));
    case 'TensorArrayV3':
      return fill(() => HANDLE);
    case 'TensorArrayWriteV3':
    case 'TensorArrayScatterV3':
    case 'TensorArraySplitV3':
      return fill(() => HANDLE);
    case 'TensorArraySizeV3':
      return fill(() => ({ dtype: 'int32', shape: [] }));
    case 'TensorArrayReadV3':
    case 'TensorArrayGatherV3':
    case 'TensorArrayConcatV3':
      return fill((i) => (i === 0 ? unknown(dtypeAttr(n, 'dtype') ?? 'float32') : { dtype: 'int32', shape: [-1] }));
    case 'TensorListGetItem':
    case 'TensorListStack':
    case 'TensorListGather':
    case 'TensorListConcat':
    case 'TensorListConcatV2':
      return fill((i) =>
        i === 0 ? unknown(dtypeAttr(n, 'element_dtype') ?? 'float32') : { dtype: 'int32', shape: [-1] },
      );
    case 'TensorListPopBack':
      return fill((i) => (i === 0 ? HANDLE : unknown(dtypeAttr(n, 'element_dtype') ?? 'float32')));
    case 'TensorListLength':
      return fill(() => ({ dtype: 'int32', shape: [] }));
    default:
      if (/^(TensorList|EmptyTensorList)/.test(n.op)) return fill(() => HANDLE);
      return fill(() =>
        unknown(dtypeAttr(n, 'T', 'dtype', 'DstT', 'out_type', 'output_type') ?? x[0]?.dtype ?? 'float32'),
      );
  }
}

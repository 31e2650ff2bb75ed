// What the runtime needs of a tf.Tensor: its dtype, shape and values. Recognised by these
// members, not by instanceof: a tensor made by another copy of tfjs in the user's tree (a
// different version, or the same version resolved twice) is a different class to ours, and
// is still a tensor whose values dataSync() reads on its own backend.

export interface TensorLike {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly isDisposed?: boolean;
  dataSync(): ArrayLike<number> | ArrayLike<boolean> | unknown;
}

export function isTensorLike(x: unknown): x is TensorLike {
  if (x === null || typeof x !== 'object') return false;
  const t = x as Record<string, unknown>;
  return typeof t.dataSync === 'function' && Array.isArray(t.shape) && typeof t.dtype === 'string';
}

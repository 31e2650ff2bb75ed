// Errors raised while reading, transforming or writing models. Every error names the file
// and, where it applies, the node or weight, and says what is wrong.

export interface ModelErrorContext {
  /** The file (model.json, a shard) or source ('<memory>', '<io-handler>') concerned. */
  file?: string;
  /** The graph node (or Keras layer) concerned. */
  node?: string;
  /** The weight (constant) concerned. */
  weight?: string;
}

/** A model that cannot be read, transformed or written as asked. */
export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
  readonly file?: string;
  readonly node?: string;
  readonly weight?: string;
  /** What is wrong, without the location prefix. */
  readonly reason: string;

  constructor(reason: string, ctx: ModelErrorContext = {}) {
    const where = [
      ctx.file !== undefined ? ctx.file : undefined,
      ctx.node !== undefined ? `node '${ctx.node}'` : undefined,
      ctx.weight !== undefined ? `weight '${ctx.weight}'` : undefined,
    ]
      .filter(Boolean)
      .join(': ');
    super(where ? `${where}: ${reason}` : reason);
    this.reason = reason;
    if (ctx.file !== undefined) this.file = ctx.file;
    if (ctx.node !== undefined) this.node = ctx.node;
    if (ctx.weight !== undefined) this.weight = ctx.weight;
  }

  /** The same error with missing location fields filled in from ctx. */
  withContext(ctx: ModelErrorContext): ModelFormatError {
    if (
      (ctx.file === undefined || this.file !== undefined) &&
      (ctx.node === undefined || this.node !== undefined) &&
      (ctx.weight === undefined || this.weight !== undefined)
    )
      return this;
    const e = new ModelFormatError(this.reason, {
      file: this.file ?? ctx.file,
      node: this.node ?? ctx.node,
      weight: this.weight ?? ctx.weight,
    });
    e.stack = this.stack;
    return e;
  }
}

/** Runs fn and adds ctx to a ModelFormatError it throws; other errors become ModelFormatErrors. */
export function withErrorContext<T>(ctx: ModelErrorContext, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw asModelError(e, ctx);
  }
}

export function asModelError(e: unknown, ctx: ModelErrorContext): ModelFormatError {
  if (e instanceof ModelFormatError) return e.withContext(ctx);
  const msg = e instanceof Error ? e.message : String(e);
  return new ModelFormatError(msg, ctx);
}

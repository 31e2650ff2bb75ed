// Where queued conversions read their inputs and put their outputs. Workers on other machines
// see the same storage; this first implementation is a shared folder (NFS, SMB, a bind mount)
// mounted at the same path everywhere. An object store can implement the same interface:
// `localInput` downloads, `stage` is a local temporary folder, `publish` uploads the files and
// then the record last (the record is the commit marker), `readRecord` reads that marker.
//
// Each output folder carries a record (RECORD_FILE) of what produced it: the input's content
// hash, the conversion options' key and the conversion's result. The record is inside the
// folder that is renamed into place, so an output and its record appear together or not at
// all, and two workers finishing the same job leave one complete output.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFilesAtomic } from '../io/atomic.js';
import type { ModelResult } from '../convert/convert-one.js';

export const RECORD_FILE = 'tfjs-quant-job.json';

/** Staging folders start with the prefix the local converter and model discovery already skip and clean. */
export const STAGE_PREFIX = '.tfjs-quant-tmp-queue-';

export type StorageKind = 'shared-folder';

export interface OutputRecord {
  tool: 'tfjs-quant';
  version: 1;
  /** sha256 of the input model as converted (see hash.ts); undefined when it could not be read. */
  inputHash?: string;
  conversionKey: string;
  result: ModelResult;
}

export interface PublishOutcome {
  /** False when an output from the same input and options was already there (it is kept, ours dropped). */
  published: boolean;
  /** The record of the output now in place. */
  record: OutputRecord;
}

export interface ConversionStorage {
  readonly kind: StorageKind;
  /** A path of the input's model.json that this process can read. */
  localInput(source: string): Promise<string>;
  /** A local path (not existing yet) where one attempt writes its output; named after the batch so leftovers can be swept. */
  stage(outputRoot: string, batch: string): Promise<string>;
  /** Puts a staged output (with its record) in place as `rel` atomically. */
  publish(staged: string, outputRoot: string, rel: string, record: OutputRecord): Promise<PublishOutcome>;
  /** The record of the output at `rel`, when there is a complete one. */
  readRecord(outputRoot: string, rel: string): Promise<OutputRecord | undefined>;
  /** Removes a staged output that will not be published. */
  discard(staged: string): Promise<void>;
  /** Removes what attempts of `batch` left behind (a killed worker's staging folder); returns how many. */
  sweep(outputRoot: string, batch: string): Promise<number>;
}

/** Two records describe the same output when the same input bytes were converted with the same options. */
export function sameOutput(a: OutputRecord, b: Pick<OutputRecord, 'inputHash' | 'conversionKey'>): boolean {
  return a.inputHash !== undefined && a.inputHash === b.inputHash && a.conversionKey === b.conversionKey;
}

const exists = (p: string) =>
  fs.access(p).then(
    () => true,
    () => false,
  );

/** rename(2) says another writer got there first (the target is a non-empty folder now). */
const targetTaken = (e: unknown) => ['ENOTEMPTY', 'EEXIST'].includes((e as NodeJS.ErrnoException).code ?? '');
const vanished = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

/** The record of the complete output in `dir`, or undefined (no output, no record, or not ours). */
async function readRecordIn(dir: string): Promise<OutputRecord | undefined> {
  let text: string;
  try {
    text = await fs.readFile(join(dir, RECORD_FILE), 'utf8');
  } catch (e) {
    if (vanished(e)) return undefined;
    throw e;
  }
  let r: OutputRecord;
  try {
    r = JSON.parse(text) as OutputRecord;
  } catch {
    return undefined; // damaged by hand: treated as no record, so the output gets replaced
  }
  if (
    r?.tool !== 'tfjs-quant' ||
    r.version !== 1 ||
    typeof r.conversionKey !== 'string' ||
    typeof r.result !== 'object'
  )
    return undefined;
  return (await exists(join(dir, 'model.json'))) ? r : undefined;
}

export class SharedFolderStorage implements ConversionStorage {
  readonly kind = 'shared-folder' as const;

  async localInput(source: string): Promise<string> {
    return source;
  }

  async stage(outputRoot: string, batch: string): Promise<string> {
    // Inside the output root: same file system as the final folder, so publishing is a rename.
    const dir = join(outputRoot, `${STAGE_PREFIX}${batch}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await fs.mkdir(dir, { recursive: true });
    return join(dir, 'model');
  }

  async readRecord(outputRoot: string, rel: string): Promise<OutputRecord | undefined> {
    return readRecordIn(join(outputRoot, rel));
  }

  async publish(staged: string, outputRoot: string, rel: string, record: OutputRecord): Promise<PublishOutcome> {
    if (rel === '') throw new Error('a queued output needs its own folder under the output root');
    await writeFilesAtomic(
      staged,
      [{ name: RECORD_FILE, bytes: new TextEncoder().encode(JSON.stringify(record, null, 2) + '\n') }],
      { commitFile: RECORD_FILE },
    );
    const final = join(outputRoot, rel);
    await fs.mkdir(dirname(final), { recursive: true });
    const aside = join(dirname(staged), 'replaced');
    // Each round finds the same output in place (ours is dropped), or renames ours in, or moves
    // what is in the way aside: an older output is deleted, the same output (another worker's,
    // caught between our look and our move) is put back. A concurrent writer can make a round
    // repeat; no folder is ever seen half-written.
    for (let round = 0; round < 8; round++) {
      const there = await readRecordIn(final);
      if (there && sameOutput(there, record)) {
        await this.discard(staged);
        return { published: false, record: there };
      }
      try {
        await fs.rename(staged, final);
        await this.discard(staged);
        return { published: true, record };
      } catch (e) {
        if (!targetTaken(e)) throw e;
      }
      try {
        await fs.rename(final, aside);
      } catch (e) {
        if (!vanished(e)) throw e;
        continue;
      }
      const moved = await readRecordIn(aside);
      if (moved && sameOutput(moved, record)) {
        try {
          await fs.rename(aside, final);
        } catch (e) {
          if (!targetTaken(e)) throw e;
        }
      }
      await fs.rm(aside, { recursive: true, force: true });
    }
    throw new Error(`could not publish ${final}: other writers keep replacing it`);
  }

  async discard(staged: string): Promise<void> {
    await fs.rm(dirname(staged), { recursive: true, force: true });
  }

  async sweep(outputRoot: string, batch: string): Promise<number> {
    let n = 0;
    for (const e of await fs.readdir(outputRoot, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory() && e.name.startsWith(`${STAGE_PREFIX}${batch}-`)) {
        await fs.rm(join(outputRoot, e.name), { recursive: true, force: true });
        n++;
      }
    }
    return n;
  }
}

/** The storage a job names (the job data carries the kind, so a worker never guesses). */
export function storageFor(kind: StorageKind): ConversionStorage {
  switch (kind) {
    case 'shared-folder':
      return new SharedFolderStorage();
  }
}

// The httpdid sequence: positive integers, persisted in the data dir so that no id is ever handed out twice there.

import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';

const FILE = 'httpdid-sequence.json';

/** Hands out httpdids; each is durable on disk before it is returned. */
export class IdSequence {
  readonly #file: string;
  #last: number;
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(file: string, last: number) {
    this.#file = file;
    this.#last = last;
  }

  /** Opens (creating if needed) the sequence in `dataDir`. */
  static async open(dataDir: string): Promise<IdSequence> {
    await mkdir(dataDir, { recursive: true });
    const file = path.join(dataDir, FILE);
    let last = 0;
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { last?: unknown };
      if (typeof parsed.last !== 'number' || !Number.isSafeInteger(parsed.last) || parsed.last < 0) {
        throw new Error(`${file} is corrupt: "last" must be a non-negative integer`);
      }
      last = parsed.last;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return new IdSequence(file, last);
  }

  /** The next httpdid, after it has been written and fsynced. */
  next(): Promise<number> {
    const run = this.#chain.then(async () => {
      const id = this.#last + 1;
      const tmp = `${this.#file}.tmp`;
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(`${JSON.stringify({ last: id })}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.#file);
      this.#last = id;
      return id;
    });
    this.#chain = run.catch(() => undefined);
    return run;
  }
}

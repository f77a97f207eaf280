// One service instance per data dir: an exclusive OS file lock on `<dataDir>/isohttpd.lock`, held for the life of the process (the kernel drops it when the process ends, kill -9 included), and the holder's pid beside it for the message.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** The lock file in a data dir (an empty SQLite database: only its lock is used). */
export const LOCK_FILE = 'isohttpd.lock';
/** The file naming the pid of the instance holding the lock (information only: the lock decides). */
export const PID_FILE = 'isohttpd.pid';

/** Another process holds the data dir. */
export class DataDirInUse extends Error {
  /** The pid the holder wrote, or null if it could not be read. */
  readonly pid: number | null;

  constructor(dataDir: string, pid: number | null) {
    super(`data dir ${dataDir} is in use by ${pid === null ? 'another isohttpd process' : `isohttpd pid ${pid}`}`);
    this.pid = pid;
  }
}

/**
 * The exclusive lock of one data dir. It is SQLite's own exclusive lock (POSIX `fcntl` record
 * locks) on a file of its own, taken without waiting: a second instance is refused at once, and
 * the lock is the kernel's, so it cannot go stale (no pid file decides anything). The registry
 * database is not locked by it: `isohttpd tenant …` opens that one while the service runs.
 */
export class DataDirLock {
  readonly #db: DatabaseSync;

  private constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /**
   * Takes the lock of `dataDir` (created if needed) or throws.
   * @param shown the data dir as the operator gave it, for the message
   * @throws DataDirInUse when another process holds it
   */
  static acquire(dataDir: string, shown: string = dataDir): DataDirLock {
    mkdirSync(dataDir, { recursive: true });
    const db = new DatabaseSync(path.join(dataDir, LOCK_FILE), { timeout: 0 });
    try {
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      // An exclusive transaction never committed: the lock is held until the connection closes.
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      db.close();
      if ((err as { errcode?: number }).errcode === 5) throw new DataDirInUse(shown, readPid(dataDir));
      throw err;
    }
    writeFileSync(path.join(dataDir, PID_FILE), `${process.pid}\n`);
    return new DataDirLock(db);
  }

  /** Releases the lock (the process ending releases it too). */
  release(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

/** The pid in a data dir's pid file, or null. */
function readPid(dataDir: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path.join(dataDir, PID_FILE), 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

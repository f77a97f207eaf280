// Secrets at rest: AES-256-GCM under one key per service (a file in the data dir made on first use, or one the operator supplies), each sealed value bound to its server and name.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { IsoError } from '../../core/errors.js';

/** The key file made in the data dir when the operator names none. */
export const SECRETS_KEY_FILE = 'secrets.key';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The format of a sealed value: `v1:` then base64 of IV ‖ tag ‖ ciphertext. */
const PREFIX = 'v1:';

/**
 * Seals and opens secret values. The key is 32 random bytes, as 64 hexadecimal digits in its file
 * (mode 0600). Each value is encrypted with a fresh 96-bit IV, and its server and name are the
 * additional authenticated data: a sealed value copied to another server's or name's row does not open.
 */
export class SecretBox {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /**
   * The box of a service: the key in `keyFile` (the operator's `secretsKeyFile`), else the data dir's
   * `secrets.key`, made on first use.
   * @throws Error naming the file when it cannot be read or is not 64 hexadecimal digits
   */
  static open(dataDir: string, keyFile: string | undefined): SecretBox {
    const file = keyFile ?? path.join(dataDir, SECRETS_KEY_FILE);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || keyFile !== undefined) throw new Error(`cannot read the secrets key ${file}: ${(err as Error).message}`);
      text = randomBytes(KEY_BYTES).toString('hex');
      // wx: never over a key another process just made.
      try {
        writeFileSync(file, `${text}\n`, { mode: 0o600, flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot write the secrets key ${file}: ${(e as Error).message}`);
        text = readFileSync(file, 'utf8');
      }
    }
    const hex = text.trim();
    if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error(`the secrets key ${file} must hold 64 hexadecimal digits (32 bytes), e.g. from \`openssl rand -hex 32\``);
    if (keyFile === undefined && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return new SecretBox(Buffer.from(hex, 'hex'));
  }

  /** Seals `value` for server `httpdid`'s secret `name`. */
  seal(httpdid: number, name: string, value: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(aad(httpdid, name));
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** Opens what {@link seal} made for the same server and name. @throws IsoError 500 when it does not open (another key, another row, tampered) */
  open(httpdid: number, name: string, sealed: string): string {
    const raw = sealed.startsWith(PREFIX) ? Buffer.from(sealed.slice(PREFIX.length), 'base64') : Buffer.alloc(0);
    if (raw.length < IV_BYTES + TAG_BYTES) throw new IsoError('ISO_ERR_API_INTERNAL', `secret ${name} of server ${httpdid} is not a sealed value`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(aad(httpdid, name));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new IsoError('ISO_ERR_API_INTERNAL', `secret ${name} of server ${httpdid} does not open with this service's secrets key (another key, or the stored value was changed)`);
    }
  }
}

function aad(httpdid: number, name: string): Buffer {
  return Buffer.from(`isohttpd-secret\0${httpdid}\0${name}`, 'utf8');
}

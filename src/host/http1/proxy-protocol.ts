// The PROXY protocol version 2 header (HAProxy, "The PROXY protocol, Versions 1 & 2", doc/proxy-protocol.txt §2.2): a strict incremental decoder, bytes in any split → the client's address, or a refusal.

/**
 * §2.2: the 12-byte signature `\r\n\r\n\0\r\nQUIT\n`, then version and command, family and
 * transport, and the 16-bit length of what follows (addresses, then TLVs).
 */
const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** The fixed part: signature, version/command, family/transport, length. */
const FIXED_BYTES = 16;
/**
 * §2: "Both formats are designed to fit in the smallest TCP segment that any TCP/IP host is
 * required to support (576 - 40 = 536 bytes)": a longer header is refused, bytes.
 */
export const PROXY_V2_MAX_BYTES = 536;
/** §2.2 high nibble of the 13th byte: the version, "must always be sent as \x2 and the receiver must only accept this value". */
const VERSION_2 = 0x2;
/** §2.2 low nibble of the 13th byte: the commands. Other values: "Receivers must drop connections presenting unexpected values here." */
const CMD_LOCAL = 0x0;
const CMD_PROXY = 0x1;
/** §2.2 the 14th byte: family (high nibble) and transport (low nibble). */
const FAM_UNSPEC = 0x0;
const FAM_INET = 0x1;
const FAM_INET6 = 0x2;
const FAM_UNIX = 0x3;
const PROTO_UNSPEC = 0x0;
const PROTO_STREAM = 0x1;
const PROTO_DGRAM = 0x2;
/** §2.2 address block sizes: TCP over IPv4 2*4 + 2*2, over IPv6 2*16 + 2*2, bytes. */
const INET_BYTES = 12;
const INET6_BYTES = 36;
/** §2.2 a TLV: type (1 byte), length (2 bytes, network order), value. */
const TLV_HEAD_BYTES = 3;

/** One end of the proxied connection. */
export interface ProxyEndpoint {
  /** IPv4 dotted, or IPv6 in RFC 5952 text (an IPv4-mapped one as `::ffff:a.b.c.d`). */
  readonly address: string;
  /** TCP port, 0-65535. */
  readonly port: number;
}

/** A decoded header. */
export interface ProxyHeader {
  /** `local`: the balancer's own connection (a health check); `proxy`: relayed for a client. */
  readonly command: 'local' | 'proxy';
  /** The client (null for LOCAL and UNSPEC: the socket's own peer is the one to use, §2.2). */
  readonly source: ProxyEndpoint | null;
  /** The address the client connected to (null as for `source`). */
  readonly destination: ProxyEndpoint | null;
  /** The header's size, bytes (16 + its length field). */
  readonly bytes: number;
}

/** What {@link ProxyHeaderDecoder.push} found. */
export type ProxyResult =
  | { readonly kind: 'more' }
  | { readonly kind: 'header'; readonly header: ProxyHeader /** Bytes after the header (the first request's): a view of the input. */; readonly rest: Buffer }
  | { readonly kind: 'refused'; readonly reason: string };

const MORE: ProxyResult = Object.freeze({ kind: 'more' });

/**
 * Decodes the PROXY v2 header a connection must start with. Strict: each signature byte is checked
 * as it arrives (a v1 text header `PROXY …` or an HTTP request is refused at its first byte), the
 * fixed part as soon as it is in (version 2; LOCAL or PROXY; UNSPEC, INET or INET6 over UNSPEC or
 * STREAM; a length within {@link PROXY_V2_MAX_BYTES}), the address block and TLVs once all of the
 * length is in (the TLVs must tile the rest exactly; their values are skipped). Memory: one buffer
 * of {@link PROXY_V2_MAX_BYTES}. After a header or a refusal, nothing more is decoded.
 */
export class ProxyHeaderDecoder {
  readonly #buf = Buffer.allocUnsafe(PROXY_V2_MAX_BYTES);
  #have = 0;
  /** The whole header's size once the fixed part is in, else 0. */
  #total = 0;
  #done = false;

  /** Bytes of the header received so far. */
  get received(): number {
    return this.#have;
  }

  /** Feeds bytes; on `header`, `rest` holds what follows it in `chunk`. */
  push(chunk: Buffer): ProxyResult {
    if (this.#done) return refused('the PROXY header was decoded already');
    let at = 0;
    while (at < chunk.length) {
      if (this.#have < FIXED_BYTES) {
        const b = chunk[at] ?? 0;
        if (this.#have < SIGNATURE.length && b !== SIGNATURE[this.#have])
          return this.#refuse(this.#have === 0 && b === 0x50 ? 'a PROXY v1 text header (only v2 is accepted)' : 'no PROXY v2 signature');
        this.#buf[this.#have++] = b;
        at++;
        if (this.#have === FIXED_BYTES) {
          const fault = this.#checkFixed();
          if (fault !== null) return this.#refuse(fault);
          if (this.#total === FIXED_BYTES) return this.#finish(chunk, at);
        }
        continue;
      }
      const n = Math.min(this.#total - this.#have, chunk.length - at);
      chunk.copy(this.#buf, this.#have, at, at + n);
      this.#have += n;
      at += n;
      if (this.#have === this.#total) return this.#finish(chunk, at);
    }
    return MORE;
  }

  #refuse(reason: string): ProxyResult {
    this.#done = true;
    return refused(reason);
  }

  /** The 13th to 16th bytes; sets the total size. */
  #checkFixed(): string | null {
    const verCmd = this.#buf[12] ?? 0;
    if (verCmd >> 4 !== VERSION_2) return `PROXY header version ${verCmd >> 4} (only 2 is accepted)`;
    const cmd = verCmd & 0xf;
    if (cmd !== CMD_LOCAL && cmd !== CMD_PROXY) return `unassigned PROXY command ${cmd}`;
    const famProto = this.#buf[13] ?? 0;
    const fam = famProto >> 4;
    const proto = famProto & 0xf;
    if (fam > FAM_UNIX) return `unassigned PROXY address family ${fam}`;
    if (proto > PROTO_DGRAM) return `unassigned PROXY transport ${proto}`;
    const len = this.#buf.readUInt16BE(14);
    if (FIXED_BYTES + len > PROXY_V2_MAX_BYTES) return `PROXY header of ${FIXED_BYTES + len} bytes (at most ${PROXY_V2_MAX_BYTES})`;
    // A LOCAL header's family is ignored (§2.2); a relayed connection must be TCP (or unspecified) on this TCP listener.
    if (cmd === CMD_PROXY) {
      const tcp = (fam === FAM_INET || fam === FAM_INET6) && proto === PROTO_STREAM;
      if (!tcp && !(fam === FAM_UNSPEC && proto === PROTO_UNSPEC)) return `a PROXY header for family ${fam} over transport ${proto} (only TCP over IPv4 or IPv6, or UNSPEC, on a TCP listener)`;
      const need = fam === FAM_INET ? INET_BYTES : fam === FAM_INET6 ? INET6_BYTES : 0;
      if (len < need) return `PROXY header length ${len} shorter than its addresses (${need})`;
    }
    this.#total = FIXED_BYTES + len;
    return null;
  }

  /** The whole header is in `#buf`: its addresses, its TLVs checked. */
  #finish(chunk: Buffer, at: number): ProxyResult {
    this.#done = true;
    const cmd = (this.#buf[12] ?? 0) & 0xf;
    const fam = (this.#buf[13] ?? 0) >> 4;
    let source: ProxyEndpoint | null = null;
    let destination: ProxyEndpoint | null = null;
    let tlvAt = FIXED_BYTES;
    if (cmd === CMD_PROXY && fam === FAM_INET) {
      source = { address: ipv4(this.#buf, 16), port: this.#buf.readUInt16BE(24) };
      destination = { address: ipv4(this.#buf, 20), port: this.#buf.readUInt16BE(26) };
      tlvAt += INET_BYTES;
    } else if (cmd === CMD_PROXY && fam === FAM_INET6) {
      source = { address: ipv6(this.#buf, 16), port: this.#buf.readUInt16BE(48) };
      destination = { address: ipv6(this.#buf, 32), port: this.#buf.readUInt16BE(50) };
      tlvAt += INET6_BYTES;
    }
    // LOCAL (any family) and UNSPEC: the addresses, if any, are not read (§2.2), nor TLVs behind them.
    if (source !== null) {
      while (tlvAt < this.#total) {
        if (this.#total - tlvAt < TLV_HEAD_BYTES) return refused('a truncated TLV in the PROXY header');
        const len = this.#buf.readUInt16BE(tlvAt + 1);
        tlvAt += TLV_HEAD_BYTES + len;
        if (tlvAt > this.#total) return refused('a TLV longer than the PROXY header');
      }
    }
    return { kind: 'header', header: { command: cmd === CMD_LOCAL ? 'local' : 'proxy', source, destination, bytes: this.#total }, rest: chunk.subarray(at) };
  }
}

function refused(reason: string): ProxyResult {
  return { kind: 'refused', reason };
}

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** 16 bytes as RFC 5952 text: lower case, no leading zeros, the longest run (≥ 2) of zero groups as `::`, IPv4-mapped as `::ffff:a.b.c.d` (§5). */
export function ipv6(b: Buffer, at: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(b.readUInt16BE(at + 2 * i));
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) return `::ffff:${ipv4(b, at + 12)}`;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (part: number[]): string => part.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

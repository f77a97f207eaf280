// The PROXY protocol at a tenant listener's accept: a connection from a balancer's address (config `proxyProtocol.from`) must start with a v2 header, read here before its Connection exists; any other peer is served as it is.

import type { Socket } from 'node:net';
import { type Cidr, inCidr, parseAddress } from '../../core/cidr.js';
import { ProxyHeaderDecoder } from '../http1/proxy-protocol.js';

/** The client a connection is served for: the socket's own peer, or the one its PROXY header names. */
export interface Peer {
  readonly address: string | undefined;
  readonly port: number | undefined;
}

/** A connection past its PROXY header: the client it names, and the bytes that followed the header (the first request's). */
export interface Proxied {
  readonly peer: Peer;
  readonly rest: Buffer;
}

/** Called for each connection refused at its PROXY header: the socket's peer and why. */
export type ProxyRefusalReport = (peer: string, reason: string) => void;

/** The worker's policy: none until {@link configureProxyProtocol} (a worker started without `proxyProtocol`). */
let balancers: readonly Cidr[] = [];
let report: ProxyRefusalReport = () => undefined;

/** Sets the balancers' networks (validated by the control process's config) and where refusals are reported; called once at the worker's start. */
export function configureProxyProtocol(from: readonly Cidr[], onRefused: ProxyRefusalReport): void {
  balancers = from;
  report = onRefused;
}

/**
 * Whether `socket` must start with a PROXY v2 header: its peer is in one of the balancers' networks.
 * With none configured (the default) this is one length check per accepted connection.
 */
export function mustSendProxyHeader(socket: Socket): boolean {
  if (balancers.length === 0) return false;
  const addr = parseAddress(socket.remoteAddress ?? '');
  if (addr === null) return false;
  // An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d: matched against IPv4 ranges too.
  const v4 = addr.v6 && addr.value >> 32n === 0xffffn ? { v6: false, value: addr.value & 0xffffffffn } : null;
  for (const range of balancers) if (inCidr(addr, range) || (v4 !== null && inCidr(v4, range))) return true;
  return false;
}

/**
 * Reads the PROXY v2 header `socket` starts with, for at most `timeoutMs` (the server's
 * `headersTimeoutMs`: a balancer that sends part of it and stalls is cut off then), then calls
 * `onHeader` with the client (the socket's own peer for LOCAL and UNSPEC headers) and the bytes
 * after the header. A malformed, oversized, truncated or late header closes the connection without
 * a response, reported. Returns a function that abandons the wait (the listener is closing).
 */
export function readProxyHeader(socket: Socket, timeoutMs: number, onHeader: (peer: Peer, rest: Buffer) => void): () => void {
  const decoder = new ProxyHeaderDecoder();
  const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
  let settled = false;
  const refuse = (reason: string): void => {
    if (settled) return;
    stop();
    report(peer, reason);
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    const r = decoder.push(chunk);
    if (r.kind === 'more') return;
    if (r.kind === 'refused') return refuse(r.reason);
    stop();
    const src = r.header.source;
    onHeader(src === null ? { address: socket.remoteAddress, port: socket.remotePort } : { address: src.address, port: src.port }, r.rest);
  };
  const onEnd = (): void => refuse(`the balancer ended the connection after ${decoder.received} bytes of the PROXY header`);
  const onError = (): void => {
    stop();
    socket.destroy();
  };
  const timer = setTimeout(() => refuse(`no complete PROXY header within ${timeoutMs} ms (${decoder.received} bytes received)`), timeoutMs);
  function stop(): void {
    settled = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('error', onError);
  }
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('close', stop);
  return () => {
    if (settled) return;
    stop();
    socket.destroy();
  };
}

/** Least time between two reports of refused PROXY headers, ms (a misconfigured balancer refused on every connection logs once per period). */
export const PROXY_REPORT_MS = 10_000;

/**
 * A {@link ProxyRefusalReport} that passes the first refusal on at once and then at most one per
 * {@link PROXY_REPORT_MS}, with the number of refusals since the last one passed on.
 */
export function batchedReport(send: (peer: string, reason: string, count: number) => void): ProxyRefusalReport {
  let count = 0;
  let last: { peer: string; reason: string } | null = null;
  let timer: NodeJS.Timeout | null = null;
  const flush = (): void => {
    timer = null;
    if (count === 0 || last === null) return;
    send(last.peer, last.reason, count);
    count = 0;
    timer = setTimeout(flush, PROXY_REPORT_MS);
    timer.unref();
  };
  return (peer, reason) => {
    count++;
    last = { peer, reason };
    if (timer === null) flush();
  };
}

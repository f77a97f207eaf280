// Rendezvous (highest-random-weight) hashing: which live nodes serve a server. Deterministic from the key (a server's public address, so that the virtual hosts of one address land on the same nodes) and the set of node names alone, so every node computes the same answer, and a node joining or leaving moves only the servers it gains or held.

import { createHash } from 'node:crypto';

/** The weight of `node` for `key`: the first 48 bits of SHA-256(`node` NUL `key`). */
function weight(node: string, key: string): number {
  return createHash('sha256').update(`${node}\0${key}`).digest().readUIntBE(0, 6);
}

/** The placement key of a server: its public address, `host|port`. */
export function addressKey(host: string, port: number): string {
  return `${host}|${port}`;
}

/**
 * The `replicas` nodes of `nodes` (names) with the highest weight for `key`, highest first;
 * all of them when there are fewer. Ties (equal weights) go to the smaller name.
 */
export function placeOn(key: string, nodes: readonly string[], replicas: number): string[] {
  return nodes
    .map((name) => ({ name, w: weight(name, key) }))
    .sort((a, b) => b.w - a.w || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, Math.max(0, replicas))
    .map((n) => n.name);
}

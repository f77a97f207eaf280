// One placement round of the leader: every running server on `replicas` live nodes by rendezvous hashing of its public address, placements on nodes not live (or of failed servers) removed, reports of nodes not live dropped; what changed is notified by id.

import { type ClusterStore, PLAN_LOCK } from './cluster-store.js';
import { addressKey, placeOn } from './rendezvous.js';

/** What a round changed. */
export interface RoundResult {
  /** The live nodes the round placed on, by name. */
  readonly live: readonly string[];
  /** The servers whose placement changed, by httpdid. */
  readonly moved: readonly number[];
}

/**
 * Runs one round in one transaction under the advisory lock {@link PLAN_LOCK} (a second leader for
 * a moment, before its lock check, waits and then finds the work done), then notifies
 * `placement:ID` for each server moved. With no live node nothing is placed (and nothing removed:
 * the nodes serve on what they had, see docs/scale-out.md). Liveness: a heartbeat within
 * `leaseMs` by the database's clock. Without `evict` (a leader that has led for less than a lease:
 * after the database or its connection came back, the other nodes' heartbeats may not have landed
 * yet) a node out of its lease keeps what it holds (only a node that left gracefully, its
 * heartbeat '-infinity', loses its placements at once).
 */
export async function planRound(store: ClusterStore, leaseMs: number, evict = true): Promise<RoundResult> {
  const result = await store.transaction(async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [PLAN_LOCK]);
    const nodes = (
      await c.query<{ name: string; live: boolean; gone: boolean }>(
        `SELECT name, last_seen > now() - $1 * interval '1 millisecond' AS live, last_seen = '-infinity' AS gone FROM cluster_nodes ORDER BY name COLLATE "C"`,
        [leaseMs],
      )
    ).rows;
    const live = nodes.filter((n) => n.live).map((n) => n.name);
    const left = new Set(nodes.filter((n) => n.gone).map((n) => n.name));
    if (live.length === 0) return { live, moved: [] };
    const servers = (await c.query<{ httpdid: number; host: string; port: number; replicas: number; state: string }>('SELECT httpdid, host, port, replicas, state FROM servers ORDER BY httpdid')).rows;
    const current = new Map<number, Set<string>>();
    for (const p of (await c.query<{ httpdid: number; node: string }>('SELECT httpdid, node FROM cluster_placements')).rows) {
      const set = current.get(p.httpdid) ?? new Set<string>();
      set.add(p.node);
      current.set(p.httpdid, set);
    }
    const moved: number[] = [];
    for (const s of servers) {
      const have = current.get(s.httpdid) ?? new Set<string>();
      // Not evicting yet: a node holding it that did not leave gracefully stays a candidate.
      const candidates = evict ? live : [...new Set([...live, ...[...have].filter((n) => !left.has(n))])].sort();
      const want = s.state === 'running' ? placeOn(addressKey(s.host, s.port), candidates, s.replicas) : [];
      const gone = [...have].filter((n) => !want.includes(n));
      const added = want.filter((n) => !have.has(n));
      if (gone.length === 0 && added.length === 0) continue;
      if (gone.length > 0) await c.query('DELETE FROM cluster_placements WHERE httpdid = $1 AND node = ANY($2::text[])', [s.httpdid, gone]);
      for (const n of added) await c.query('INSERT INTO cluster_placements (httpdid, node) VALUES ($1, $2) ON CONFLICT DO NOTHING', [s.httpdid, n]);
      moved.push(s.httpdid);
    }
    // A node out of the lease serves nothing any more as far as the cluster knows.
    if (evict) await c.query('DELETE FROM cluster_reports WHERE NOT (node = ANY($1::text[]))', [live]);
    return { live, moved };
  });
  for (const httpdid of result.moved) await store.notify({ kind: 'placement', httpdid });
  return result;
}

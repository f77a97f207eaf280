-- PostgreSQL 003: cluster mode (src/api/cluster/). The nodes and their heartbeats (liveness judged by the database's clock: now() - last_seen < the lease), where the leader placed each server, and what each node reports it serves.
CREATE TABLE cluster_nodes (
  name text PRIMARY KEY,
  -- The node's own address: its tenant listeners bind the servers' ports there.
  address text NOT NULL,
  -- Where its control API answers (GET /healthz for the balancer's checks).
  api_url text NOT NULL,
  joined_at timestamptz NOT NULL DEFAULT now(),
  -- Written by the node's heartbeat with the database's now(); '-infinity' once it left gracefully.
  last_seen timestamptz NOT NULL DEFAULT now()
);

-- The leader's decision (rendezvous hashing over the live nodes): server httpdid is served by node.
CREATE TABLE cluster_placements (
  httpdid integer NOT NULL REFERENCES servers (httpdid) ON DELETE CASCADE,
  node text NOT NULL REFERENCES cluster_nodes (name) ON DELETE CASCADE,
  placed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (httpdid, node)
);
CREATE INDEX cluster_placements_by_node ON cluster_placements (node);

-- What a node serves, written by that node: the revision (the version number and the secrets it
-- was deployed with) ready, or why it failed. No foreign key to servers: a node deletes its row
-- once it stopped serving a deleted server, which is what DELETE /servers/:id waits for.
CREATE TABLE cluster_reports (
  httpdid integer NOT NULL,
  node text NOT NULL REFERENCES cluster_nodes (name) ON DELETE CASCADE,
  revision text NOT NULL,
  state text NOT NULL CHECK (state IN ('ready', 'failed')),
  reason text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (httpdid, node)
);

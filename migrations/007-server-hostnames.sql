-- 007: servers.hostnames, a server's virtual hosts (a JSON array of normalised names: exact DNS names and `*.suffix` wildcards); existing servers have none (their address to themselves).
ALTER TABLE servers ADD COLUMN hostnames TEXT NOT NULL DEFAULT '[]';

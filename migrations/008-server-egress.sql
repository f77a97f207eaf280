-- 008: a server's egress policy (outbound fetch). servers.egress and server_versions.egress: the allow list as JSON (`{"allow": [...]}`), part of each version; NULL: no outbound access.
ALTER TABLE servers ADD COLUMN egress TEXT;
ALTER TABLE server_versions ADD COLUMN egress TEXT;

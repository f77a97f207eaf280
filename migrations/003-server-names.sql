-- 003: servers.name, a server's optional name (a DNS label, unique per tenant); existing servers have none.
ALTER TABLE servers ADD COLUMN name TEXT CHECK (name IS NULL OR (length(name) BETWEEN 1 AND 63));
CREATE UNIQUE INDEX servers_tenant_name ON servers (tenant, name) WHERE name IS NOT NULL;

-- Practice-network rules (S10). Keep in step with the other backend.
-- Networks (CIDR, comma-separated) from which staff may act in the practice; empty: no
-- restriction. Roles (comma-separated) the rule binds; empty: all staff.
ALTER TABLE organizations ADD COLUMN network_allowed TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN network_roles TEXT NOT NULL DEFAULT '';
-- The practice a security event concerns, where it concerns one.
ALTER TABLE security_events ADD COLUMN org_id TEXT;
CREATE INDEX ix_security_events_org ON security_events (org_id, at);

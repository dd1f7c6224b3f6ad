-- A practice's account-security settings. Keep in step with the other backend.
-- 'composition' (the seed's rule) or 'length_only' (NIST SP 800-63B).
ALTER TABLE organizations ADD COLUMN password_policy TEXT NOT NULL DEFAULT 'composition';
-- Role names, comma-separated, whose members must use TOTP or a passkey instead of SMS.
ALTER TABLE organizations ADD COLUMN strong_factor_roles TEXT NOT NULL DEFAULT '';

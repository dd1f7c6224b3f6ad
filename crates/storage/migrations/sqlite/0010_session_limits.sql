-- How long a practice lets its members' sessions live (idle minutes, hours in all). A user
-- in several practices gets the strictest. Keep in step with the other backend.
ALTER TABLE organizations ADD COLUMN session_idle_minutes INTEGER NOT NULL DEFAULT 30;
ALTER TABLE organizations ADD COLUMN session_max_hours INTEGER NOT NULL DEFAULT 12;

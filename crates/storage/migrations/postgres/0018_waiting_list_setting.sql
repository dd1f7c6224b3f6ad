-- How many waiting patients a practice offers a freed time to at once (issue 7: default 5).
-- Keep in step with the other backend.
ALTER TABLE organizations ADD COLUMN waiting_list_offers BIGINT NOT NULL DEFAULT 5;

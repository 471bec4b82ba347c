-- The host backend's server API (issue #22, item 2): users it marks as bots, and users it
-- deactivates (signed out everywhere and refused sign-in until reactivated).
ALTER TABLE users ADD COLUMN is_bot boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN deactivated_at timestamptz;

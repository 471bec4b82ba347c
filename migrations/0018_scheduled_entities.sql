-- Rich text on scheduled messages (issue #15): the entities are kept with the content and
-- posted with it when due, in the messages' own form (docs/api.md, Rich text).
ALTER TABLE scheduled_messages ADD COLUMN entities jsonb NOT NULL DEFAULT '[]'::jsonb;

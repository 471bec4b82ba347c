-- A scheduled message is claimed (claimed_until) only while a node posts it: its author's edit
-- or cancellation waits for no post and is refused (409) while the claim lasts, as for a sent
-- one, so a post never carries what an edit replaced or what a cancellation removed. A post
-- put off by a wait (a rate limit's, slow mode's) gives its claim back, so the message stays
-- editable meanwhile, and is not claimed again before retry_at.
ALTER TABLE scheduled_messages ADD COLUMN retry_at timestamptz;

-- Deleting an account (docs/api.md, Deleting the account) keeps the user's row as a tombstone,
-- so the foreign keys' ON DELETE rules never fire: store::accounts does what they would have
-- done (null where the documents say null once the account is gone, delete where the rows go
-- with it). Each of its statements finds the rows by one of these indexes instead of scanning
-- the table. Partial where most rows name nobody, so that they cost the writes that name no
-- one nothing.
CREATE INDEX messages_pinned_by ON messages (pinned_by) WHERE pinned_by IS NOT NULL;
CREATE INDEX messages_forwarded_from_sender ON messages (forwarded_from_sender_id)
    WHERE forwarded_from_sender_id IS NOT NULL;
CREATE INDEX message_reports_reported_sender ON message_reports (reported_sender_id)
    WHERE reported_sender_id IS NOT NULL;
CREATE INDEX invitations_inviter ON invitations (inviter_id) WHERE inviter_id IS NOT NULL;
CREATE INDEX webhook_subscriptions_created_by ON webhook_subscriptions (created_by) WHERE created_by IS NOT NULL;
CREATE INDEX message_templates_created_by ON message_templates (created_by) WHERE created_by IS NOT NULL;
CREATE INDEX chats_created_by ON chats (created_by) WHERE created_by IS NOT NULL;
CREATE INDEX hidden_messages_user ON hidden_messages (user_id);
CREATE INDEX external_identities_user ON external_identities (user_id);
CREATE INDEX broadcast_list_recipients_user ON broadcast_list_recipients (user_id);

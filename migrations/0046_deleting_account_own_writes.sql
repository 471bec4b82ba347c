-- The account's own requests that were in flight when its deletion began (migration 0044 covers
-- what others do to it) could still store what the deletion had removed or was about to miss: a
-- scheduled message, a template, a webhook, an export or a bot of an account already deleted.
-- From the deletion's first transaction on, none of these may name the account as its owner.
CREATE TRIGGER scheduled_messages_sender_present BEFORE INSERT ON scheduled_messages
    FOR EACH ROW EXECUTE FUNCTION refuse_deleted_account('sender_id');
CREATE TRIGGER message_templates_owner_present BEFORE INSERT ON message_templates
    FOR EACH ROW EXECUTE FUNCTION refuse_deleted_account('owner_id');
CREATE TRIGGER message_templates_creator_present BEFORE INSERT ON message_templates
    FOR EACH ROW EXECUTE FUNCTION refuse_deleted_account('created_by');
CREATE TRIGGER webhook_subscriptions_creator_present BEFORE INSERT ON webhook_subscriptions
    FOR EACH ROW EXECUTE FUNCTION refuse_deleted_account('created_by');
CREATE TRIGGER data_exports_account_present BEFORE INSERT ON data_exports
    FOR EACH ROW EXECUTE FUNCTION refuse_deleted_account('user_id');
CREATE TRIGGER users_bot_owner_present BEFORE INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION refuse_deleted_account('bot_owner_id');

-- A deletion the server stopped in the middle of is carried on at the next start
-- (domain::AccountService::resume_deletions); the tombstone's username marks it finished.
CREATE INDEX users_deletion_unfinished ON users (deleted_at)
    WHERE deleted_at IS NOT NULL AND username NOT LIKE 'deleted-%';

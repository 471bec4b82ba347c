-- Bots (issue #18 item 4; docs/api.md, Bots): accounts a user creates and owns, signed in
-- by a token of their own, told of their chats' events over the WebSocket or by a webhook.

-- Set only for a bot made through /bots: the user who made it and manages it.
ALTER TABLE users ADD COLUMN bot_owner_id uuid REFERENCES users (id) ON DELETE CASCADE;
CREATE INDEX users_bot_owner ON users (bot_owner_id) WHERE bot_owner_id IS NOT NULL;

-- A bot's webhook: a subscription to the chats the bot is a member of (at most one a bot).
-- Its cursors exist only while the bot is a member: joining starts one at the chat's state
-- then (never replaying what came before), leaving drops it (nothing after it is sent).
ALTER TABLE webhook_subscriptions ADD COLUMN bot_id uuid REFERENCES users (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX webhook_subscriptions_bot ON webhook_subscriptions (bot_id) WHERE bot_id IS NOT NULL;

-- Every way into or out of a chat (adds, invitations, invite links, removal, leaving) passes
-- here, so no write path has to remember the bot's cursor.
CREATE FUNCTION bot_membership_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM webhook_cursors k USING webhook_subscriptions s
        WHERE s.bot_id = OLD.user_id AND k.subscription_id = s.id AND k.chat_id = OLD.chat_id;
    ELSE
        INSERT INTO webhook_cursors (subscription_id, chat_id, version, seq)
        SELECT s.id, c.id, c.version, c.last_seq FROM webhook_subscriptions s JOIN chats c ON c.id = NEW.chat_id
        WHERE s.bot_id = NEW.user_id
        ON CONFLICT (subscription_id, chat_id) DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER bot_membership_changed AFTER INSERT OR DELETE ON chat_members
    FOR EACH ROW EXECUTE FUNCTION bot_membership_changed();

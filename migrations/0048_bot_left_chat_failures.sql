-- A bot that leaves a chat (or is removed, or the chat goes) loses its parked deliveries of
-- that chat with its cursor there: its owner could otherwise list and replay the chat's
-- messages, which the bot never took, after it stopped being a member (docs/api.md, Bots).
CREATE OR REPLACE FUNCTION bot_membership_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM webhook_cursors k USING webhook_subscriptions s
        WHERE s.bot_id = OLD.user_id AND k.subscription_id = s.id AND k.chat_id = OLD.chat_id;
        DELETE FROM webhook_failures f USING webhook_subscriptions s
        WHERE s.bot_id = OLD.user_id AND f.subscription_id = s.id AND f.chat_id = OLD.chat_id;
    ELSE
        INSERT INTO webhook_cursors (subscription_id, chat_id, version, seq)
        SELECT s.id, c.id, c.version, c.last_seq FROM webhook_subscriptions s JOIN chats c ON c.id = NEW.chat_id
        WHERE s.bot_id = NEW.user_id
        ON CONFLICT (subscription_id, chat_id) DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

-- Outgoing webhooks (issue #18 item 3; docs/api.md, Webhooks). Deliveries are derived from
-- the chats' committed changes by a cursor per subscription and chat (docs/architecture.md,
-- Webhooks): the write path writes nothing for them.

-- chat_id null: an operator's server-wide subscription (every chat).
CREATE TABLE webhook_subscriptions (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    chat_id    uuid REFERENCES chats (id) ON DELETE CASCADE,
    url        text NOT NULL,
    secret     text NOT NULL,
    events     text[] NOT NULL,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_chat ON webhook_subscriptions (chat_id);

-- How far a subscription's deliveries for one chat have gone: every message with seq <= seq
-- was delivered as new, every change up to version delivered, and `part` events of the
-- change at hand. A server-wide subscription has no row for a chat created after it (it
-- starts there from version 0).
CREATE TABLE webhook_cursors (
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    chat_id         uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    version         bigint NOT NULL DEFAULT 0,
    seq             bigint NOT NULL DEFAULT 0,
    part            integer NOT NULL DEFAULT 0,
    -- The delivery at hand's failed attempts, since when it fails, and when to try again.
    attempts        integer NOT NULL DEFAULT 0,
    failing_since   timestamptz,
    next_attempt_at timestamptz,
    last_error      text,
    -- The server process delivering the pair, until when: one node at a time per pair, and
    -- a node killed mid-delivery leaves it to the next after the lease.
    leased_by       uuid,
    leased_until    timestamptz,
    PRIMARY KEY (subscription_id, chat_id)
);
CREATE INDEX webhook_cursors_chat ON webhook_cursors (chat_id);

-- Deliveries that failed for webhooks.retry_for_seconds, parked: listed and replayed by the
-- subscription's owner.
CREATE TABLE webhook_failures (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    chat_id         uuid NOT NULL,
    delivery_id     text NOT NULL,
    event           text NOT NULL,
    body            text NOT NULL,
    attempts        integer NOT NULL,
    last_error      text NOT NULL,
    failed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_failures_subscription ON webhook_failures (subscription_id, failed_at, id);

-- Product analytics: tracked events written in batches by a background writer, never on a
-- request's critical path (domain::Analytics). Queried by GET /api/v1/admin/stats.
CREATE TABLE analytics_events (
    id          bigserial PRIMARY KEY,
    occurred_at timestamptz NOT NULL,
    name        text NOT NULL,   -- message.sent, media.shared, chat.created, reaction.added, ...
    user_id     uuid,
    chat_id     uuid,
    properties  jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX analytics_events_time ON analytics_events (occurred_at);
CREATE INDEX analytics_events_name_time ON analytics_events (name, occurred_at);
-- Response times: the messages of a chat in time order.
CREATE INDEX messages_chat_time ON messages (chat_id, created_at);

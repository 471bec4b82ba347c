-- Analytics as counts per minute (issue #21): one row per minute, event, user, chat and
-- detail (a message's type, a media kind) instead of a row per event, so that a message
-- costs PostgreSQL no row of its own here. domain::Analytics counts in memory and adds to
-- these rows every few seconds. The events stored so far are counted over into it.
CREATE TABLE analytics_minutes (
    minute  timestamptz NOT NULL,
    name    text NOT NULL,   -- message.sent, media.shared, chat.created, reaction.added, ...
    user_id uuid,
    chat_id uuid,
    detail  text NOT NULL DEFAULT '',
    events  bigint NOT NULL,
    bytes   bigint NOT NULL DEFAULT 0,  -- media.shared: the uploads' sizes
    CONSTRAINT analytics_minutes_key UNIQUE NULLS NOT DISTINCT (minute, name, user_id, chat_id, detail)
);
CREATE INDEX analytics_minutes_name_minute ON analytics_minutes (name, minute);

INSERT INTO analytics_minutes (minute, name, user_id, chat_id, detail, events, bytes)
SELECT date_trunc('minute', occurred_at), name, user_id, chat_id,
       coalesce(properties->>'kind', properties->>'type', ''), count(*),
       coalesce(sum((properties->>'bytes')::bigint), 0)
FROM analytics_events GROUP BY 1, 2, 3, 4, 5;

DROP TABLE analytics_events;

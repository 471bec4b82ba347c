-- Message translation (issue #15, item 4): what the configured provider answered, per
-- message, target language and source language asked for ('auto': the provider detects it).
-- A row holds for the content it was made from (content_sha256): an edit leaves it unused,
-- and the edit and the delete remove it, so no translation outlives the text it renders.
CREATE TABLE message_translations (
    message_id      uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    target          text NOT NULL,
    source          text NOT NULL,
    content_sha256  bytea NOT NULL,
    text            text NOT NULL,
    detected_source text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, target, source)
);

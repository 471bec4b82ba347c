-- Whether a message has any reaction, so that a page of messages none of which has one (most
-- pages) reads no reactions at all: one statement fewer per history page (issue #21 item 3,
-- docs/performance.md, Reads). Kept by triggers on reactions rather than by the statements that
-- add and remove them, so that every writer keeps it, a node not yet upgraded in a rolling
-- restart included. A flag left set after the last reaction went in some other way (a cascade)
-- costs one lookup that finds nothing; it is never left unset while a reaction exists.
ALTER TABLE messages ADD COLUMN has_reactions boolean NOT NULL DEFAULT false;
UPDATE messages SET has_reactions = true WHERE id IN (SELECT message_id FROM reactions);

CREATE FUNCTION reactions_flag_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE messages SET has_reactions = true WHERE id = NEW.message_id AND NOT has_reactions;
    RETURN NULL;
END $$;

CREATE FUNCTION reactions_flag_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE messages SET has_reactions = EXISTS (SELECT 1 FROM reactions WHERE message_id = OLD.message_id)
    WHERE id = OLD.message_id AND has_reactions;
    RETURN NULL;
END $$;

CREATE TRIGGER reactions_flag_added AFTER INSERT ON reactions
    FOR EACH ROW EXECUTE FUNCTION reactions_flag_added();
CREATE TRIGGER reactions_flag_removed AFTER DELETE ON reactions
    FOR EACH ROW EXECUTE FUNCTION reactions_flag_removed();

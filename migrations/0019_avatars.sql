-- Avatars (issue #22, item 4): a user's avatar is an image uploaded with purpose=avatar, a
-- media row of no chat, attached while it is the user's avatar.
ALTER TABLE media ALTER COLUMN chat_id DROP NOT NULL;
-- Blind retries of an avatar upload find the pending one, as media_pending_upload does for a
-- chat's uploads (whose index never matches a NULL chat_id).
CREATE UNIQUE INDEX media_pending_avatar ON media (uploader_id, sha256, kind) WHERE attached_at IS NULL AND chat_id IS NULL;
-- users.avatar_url stays what the API shows; avatar_media_id is the media it names. Indexed so
-- that deleting a media row does not scan users for the foreign key.
ALTER TABLE users ADD COLUMN avatar_media_id uuid REFERENCES media (id) ON DELETE SET NULL;
CREATE INDEX users_avatar_media ON users (avatar_media_id) WHERE avatar_media_id IS NOT NULL;

-- Live photos (issue #19): an image upload may carry its motion part, a short video stored
-- beside the still under its own content key. All its columns are set together or not at all.
ALTER TABLE media ADD COLUMN live_video_storage_key text;
ALTER TABLE media ADD COLUMN live_video_sha256 text;
ALTER TABLE media ADD COLUMN live_video_mime_type text;
ALTER TABLE media ADD COLUMN live_video_size_bytes bigint CHECK (live_video_size_bytes >= 0);
ALTER TABLE media ADD COLUMN live_video_duration_ms bigint;
ALTER TABLE media ADD COLUMN live_video_width integer;
ALTER TABLE media ADD COLUMN live_video_height integer;
ALTER TABLE media ADD CONSTRAINT media_live_video_whole CHECK (
    (live_video_storage_key IS NULL) = (live_video_sha256 IS NULL) AND
    (live_video_storage_key IS NULL) = (live_video_mime_type IS NULL) AND
    (live_video_storage_key IS NULL) = (live_video_size_bytes IS NULL));
-- Bytes are released only when no row uses them, as its still or as its motion part.
CREATE INDEX media_live_video_storage_key ON media (live_video_storage_key) WHERE live_video_storage_key IS NOT NULL;
-- A blind retry is the same still with the same motion part (or none): the same still with
-- another video is a new upload.
DROP INDEX media_pending_upload;
CREATE UNIQUE INDEX media_pending_upload ON media (chat_id, uploader_id, sha256, kind, coalesce(live_video_sha256, ''))
    WHERE attached_at IS NULL;
-- The quota sums both parts; the index keeps that sum off the table.
DROP INDEX media_uploader;
CREATE INDEX media_uploader ON media (uploader_id) INCLUDE (size_bytes, live_video_size_bytes);

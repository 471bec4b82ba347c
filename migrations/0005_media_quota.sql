-- The per-user media quota (limits.media_quota_bytes) sums the sizes of a user's media rows
-- on every upload; without this index that sum read the whole media table.
CREATE INDEX media_uploader ON media (uploader_id) INCLUDE (size_bytes);

-- Richer media (issue #19): what the server derives from the bytes on upload. A voice note's
-- waveform (up to 64 peaks, 0-100), whether a GIF is animated, and whether a video has a
-- poster (its first frame, served as the media's thumbnail).
ALTER TABLE media ADD COLUMN waveform smallint[];
ALTER TABLE media ADD COLUMN animated boolean NOT NULL DEFAULT false;
ALTER TABLE media ADD COLUMN poster boolean NOT NULL DEFAULT false;

-- Paged lists (docs/api.md, Conventions): the bans of a group and the sessions of a user are
-- read a page at a time by keyset, newest first, from a place (time, id). These indexes let a
-- page seek to its place and stop after `limit` rows, rather than sort every ban of a chat, or
-- every token a user ever had (revoked and expired ones are kept), for each page.
--
-- Invite links have chat_invite_links_chat (0023, by created_at) and a user's devices are at
-- most 50 (PushService::max_devices_per_user), found by push_devices_user (0021).
CREATE INDEX chat_bans_chat_created ON chat_bans (chat_id, created_at, user_id);
-- A renewal (at most once per auth.session_renew_interval_seconds) moves last_used_at.
CREATE INDEX auth_tokens_user_live ON auth_tokens (user_id, last_used_at, id) WHERE revoked_at IS NULL;

-- Deleting an account takes several transactions (it leaves each group as a member leaves,
-- then removes its messages, then turns it into a tombstone), and requests racing it put the
-- account back in between: another member re-added it, it joined by invite link or channel
-- handle, accepted an invitation, went onto a broadcast list or blocked someone. The first of
-- those transactions now sets deleted_at (store::accounts::begin_deletion), and from then on
-- no row may newly name the account as a member, invitee, recipient, list owner, blocker,
-- blocked or banned user. The check locks the user's row FOR SHARE, which conflicts with that
-- UPDATE: an insert that got the lock first commits before the deletion's first transaction
-- does, so every later step sees (and undoes) it; one that waits re-reads the row, finds
-- deleted_at set and is refused. SQLSTATE CF404 is answered `404 user not found`
-- (store::Tx::translated). The column to check is the trigger's argument.
CREATE FUNCTION refuse_deleted_account() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    account uuid := (to_jsonb(NEW) ->> TG_ARGV[0])::uuid;
BEGIN
    IF account IS NULL THEN RETURN NEW; END IF;
    PERFORM 1 FROM users WHERE id = account AND deleted_at IS NULL FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user % is deleted', account USING ERRCODE = 'CF404';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER chat_members_account_present BEFORE INSERT ON chat_members
    FOR EACH ROW EXECUTE FUNCTION refuse_deleted_account('user_id');
CREATE TRIGGER invitations_account_present BEFORE INSERT ON invitations
    FOR EACH ROW EXECUTE FUNCTION refuse_deleted_account('user_id');
CREATE TRIGGER broadcast_lists_account_present BEFORE INSERT ON broadcast_lists
    FOR EACH ROW EXECUTE FUNCTION refuse_deleted_account('owner_id');
CREATE TRIGGER broadcast_list_recipients_account_present BEFORE INSERT ON broadcast_list_recipients
    FOR EACH ROW EXECUTE FUNCTION refuse_deleted_account('user_id');
CREATE TRIGGER user_blocks_blocker_present BEFORE INSERT ON user_blocks
    FOR EACH ROW EXECUTE FUNCTION refuse_deleted_account('blocker_id');
CREATE TRIGGER user_blocks_blocked_present BEFORE INSERT ON user_blocks
    FOR EACH ROW EXECUTE FUNCTION refuse_deleted_account('blocked_id');
CREATE TRIGGER chat_bans_account_present BEFORE INSERT ON chat_bans
    FOR EACH ROW EXECUTE FUNCTION refuse_deleted_account('user_id');

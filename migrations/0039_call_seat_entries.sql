-- A participant who leaves a group call and joins it again at once must keep their seat (issue
-- #20, docs/api.md, Calls): the leave frees it in a transaction of its own, after the fact, and the
-- join may have found the seat still there. Each entry into the call on the same seat now counts
-- here, and a leave frees the seat only up to the entries it knew of, so a free that comes after a
-- new entry leaves the seat alone. A row written by a node not yet upgraded counts one entry, and
-- such a node frees its rows as before.
ALTER TABLE call_participants ADD COLUMN entries bigint NOT NULL DEFAULT 1;

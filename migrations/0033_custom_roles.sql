-- Custom roles (issue #16, item 4): an owner defines named roles in their group, each ranking
-- as a built-in role and granting its own set of permissions (docs/api.md, Custom roles).
CREATE TABLE chat_roles (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    chat_id     uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    name        text NOT NULL,
    rank        text NOT NULL CHECK (rank IN ('admin', 'moderator', 'member', 'restricted')),
    permissions text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX chat_roles_name ON chat_roles (chat_id, lower(name));
-- A member holding a custom role has `role` set to its rank; deleting the role leaves them
-- that rank's built-in role.
ALTER TABLE chat_members ADD COLUMN custom_role_id uuid REFERENCES chat_roles (id) ON DELETE SET NULL;
CREATE INDEX chat_members_custom_role ON chat_members (custom_role_id) WHERE custom_role_id IS NOT NULL;

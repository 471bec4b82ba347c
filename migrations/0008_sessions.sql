-- Sessions that last (issue #22): every bearer token is a session its user can list and
-- revoke by id. expires_at slides forward while the token is used (auth.token_ttl_hours
-- after the last use, renewed at most once per auth.session_renew_interval_seconds), and
-- last_used_at and address are written at those renewals only.
ALTER TABLE auth_tokens
    ADD COLUMN id           uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN device_name  text,
    ADD COLUMN address      text,
    ADD COLUMN last_used_at timestamptz NOT NULL DEFAULT now();
UPDATE auth_tokens SET last_used_at = created_at;
CREATE UNIQUE INDEX auth_tokens_id ON auth_tokens (id);

-- Sign-in from the host application: a token's (issuer, subject) names one Confab user,
-- created on first use. Such users may have no password.
CREATE TABLE external_identities (
    issuer     text NOT NULL,
    subject    text NOT NULL,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;

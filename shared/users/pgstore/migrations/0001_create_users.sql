-- The users service's accounts and refresh tokens.

CREATE TABLE users (
    id                 uuid PRIMARY KEY,
    -- Stored trimmed and lower case; unique whatever the case.
    email              text NOT NULL CHECK (email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 254),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- argon2id in PHC string format; never the password.
    password_hash      text NOT NULL,
    roles              text[] NOT NULL DEFAULT '{customer}'
                       CHECK (roles <@ ARRAY['admin', 'customer']::text[]),
    status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    credit_limit_cents bigint NOT NULL DEFAULT 0 CHECK (credit_limit_cents >= 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    -- Every token rotated from one login shares the family; reuse of a
    -- rotated token revokes the whole family.
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the opaque token; the token itself is never stored.
    token_hash  bytea NOT NULL CHECK (length(token_hash) = 32),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    replaced_by uuid REFERENCES refresh_tokens (id),
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((used_at IS NULL) = (replaced_by IS NULL))
);

CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_live_user_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

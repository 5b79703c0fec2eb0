/// The PostgreSQL schema (one database per region).
enum PostgresSchema {
    /// Serializes migrations of the nodes of one region starting at once (`pg_advisory_xact_lock`).
    static let migrationLockKey: Int64 = 0x4D45_5249_4449_414E  // "MERIDIAN"

    static let createMigrationsTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """

    static let migrations: [Migration] = [
        Migration(version: 1, name: "players, match history, ledger, trades", statements: [
            """
            CREATE TABLE players (
                player_id    UUID PRIMARY KEY,
                display_name TEXT NOT NULL,
                home_region  TEXT NOT NULL,
                created_at   TIMESTAMPTZ NOT NULL,
                epoch        BIGINT NOT NULL CHECK (epoch >= 1),
                state        TEXT NOT NULL CHECK (state IN ('active', 'frozen', 'tombstoned')),
                xp           BIGINT NOT NULL DEFAULT 0 CHECK (xp >= 0),
                level        INTEGER NOT NULL DEFAULT 1,
                ledger_seq   BIGINT NOT NULL DEFAULT 0
            )
            """,
            """
            CREATE TABLE match_history (
                player_id   UUID NOT NULL REFERENCES players (player_id),
                match_id    UUID NOT NULL,
                finished_at TIMESTAMPTZ NOT NULL,
                outcome     TEXT NOT NULL,
                xp_awarded  BIGINT NOT NULL,
                summary     BYTEA NOT NULL,
                PRIMARY KEY (player_id, match_id)
            )
            """,
            "CREATE INDEX match_history_recent ON match_history (player_id, finished_at DESC)",
            """
            CREATE TABLE ledger_events (
                player_id       UUID NOT NULL,
                seq             BIGINT NOT NULL,
                kind            TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                epoch           BIGINT NOT NULL,
                trade_id        UUID,
                reason          TEXT NOT NULL,
                recorded_at     TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (player_id, seq),
                UNIQUE (player_id, idempotency_key)
            )
            """,
            "CREATE INDEX ledger_events_trade ON ledger_events (trade_id) WHERE trade_id IS NOT NULL",
            """
            CREATE TABLE ledger_lines (
                player_id     UUID NOT NULL,
                seq           BIGINT NOT NULL,
                item          TEXT NOT NULL,
                delta         BIGINT NOT NULL,
                balance_after BIGINT NOT NULL CHECK (balance_after >= 0),
                PRIMARY KEY (player_id, seq, item)
            )
            """,
            """
            CREATE TABLE ledger_balances (
                player_id UUID NOT NULL,
                item      TEXT NOT NULL,
                quantity  BIGINT NOT NULL CHECK (quantity >= 0),
                as_of_seq BIGINT NOT NULL,
                PRIMARY KEY (player_id, item)
            )
            """,
            """
            CREATE TABLE ledger_snapshots (
                player_id UUID NOT NULL,
                seq       BIGINT NOT NULL,
                item      TEXT NOT NULL,
                quantity  BIGINT NOT NULL,
                PRIMARY KEY (player_id, seq, item)
            )
            """,
            """
            CREATE TABLE ledger_replays (
                id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                player_id       UUID NOT NULL,
                idempotency_key TEXT NOT NULL,
                seq             BIGINT NOT NULL,
                replayed_at     TIMESTAMPTZ NOT NULL
            )
            """,
            "CREATE INDEX ledger_replays_player ON ledger_replays (player_id, id)",
            """
            CREATE TABLE trade_outbox (
                trade_id           UUID PRIMARY KEY,
                giver              UUID NOT NULL,
                receiver           UUID NOT NULL,
                destination_region TEXT NOT NULL,
                status             TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'refunded')),
                created_at         TIMESTAMPTZ NOT NULL,
                settled_at         TIMESTAMPTZ
            )
            """,
            "CREATE INDEX trade_outbox_pending ON trade_outbox (created_at) WHERE status = 'pending'",
            """
            CREATE TABLE trade_outbox_items (
                trade_id UUID NOT NULL REFERENCES trade_outbox (trade_id),
                item     TEXT NOT NULL,
                quantity BIGINT NOT NULL CHECK (quantity > 0),
                PRIMARY KEY (trade_id, item)
            )
            """,
            """
            CREATE TABLE trade_inbox (
                trade_id    UUID PRIMARY KEY,
                receiver    UUID NOT NULL,
                decision    TEXT NOT NULL CHECK (decision IN ('delivered', 'rejected')),
                reason      TEXT NOT NULL,
                recorded_at TIMESTAMPTZ NOT NULL
            )
            """,
        ]),
        // Match results are ledger events (`match_reward`, which may have no lines) applied with their
        // history row; outcomes gained `server_lost` (text, no constraint to change). Existing players
        // get the initial rating (SkillRating.initial).
        Migration(version: 2, name: "skill ratings", statements: [
            "ALTER TABLE players ADD COLUMN skill_rating DOUBLE PRECISION NOT NULL DEFAULT 1500",
            "ALTER TABLE players ADD COLUMN skill_deviation DOUBLE PRECISION NOT NULL DEFAULT 350",
            "ALTER TABLE players ADD COLUMN skill_volatility DOUBLE PRECISION NOT NULL DEFAULT 0.06",
        ]),
        // The identity authority's tables: every store gets them, only the `identity_authority` region's
        // store fills them. `directory_clock` is one row, not a
        // sequence: a change takes the next version by updating it inside its own transaction, so the
        // row lock hands out versions in commit order.
        Migration(version: 3, name: "identity: accounts, login methods, refresh tokens, signing keys", statements: [
            """
            CREATE TABLE accounts (
                player_id         UUID PRIMARY KEY,
                display_name      TEXT NOT NULL,
                state             TEXT NOT NULL CHECK (state IN ('active', 'banned')),
                home_region       TEXT NOT NULL,
                epoch             BIGINT NOT NULL CHECK (epoch >= 1),
                created_at        TIMESTAMPTZ NOT NULL,
                directory_version BIGINT NOT NULL UNIQUE
            )
            """,
            """
            CREATE TABLE login_methods (
                kind      TEXT NOT NULL CHECK (kind IN ('password', 'device', 'platform', 'dev')),
                subject   TEXT NOT NULL,
                player_id UUID NOT NULL REFERENCES accounts (player_id),
                secret    TEXT,
                linked_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (kind, subject)
            )
            """,
            "CREATE INDEX login_methods_player ON login_methods (player_id)",
            """
            CREATE TABLE refresh_tokens (
                token_hash        BYTEA PRIMARY KEY CHECK (octet_length(token_hash) = 32),
                family            UUID NOT NULL,
                player_id         UUID NOT NULL REFERENCES accounts (player_id),
                issued_at         TIMESTAMPTZ NOT NULL,
                expires_at        TIMESTAMPTZ NOT NULL,
                family_expires_at TIMESTAMPTZ NOT NULL,
                spent_at          TIMESTAMPTZ,
                revoked_at        TIMESTAMPTZ
            )
            """,
            "CREATE INDEX refresh_tokens_family ON refresh_tokens (family)",
            "CREATE INDEX refresh_tokens_player ON refresh_tokens (player_id)",
            """
            CREATE TABLE signing_keys (
                key_id      TEXT PRIMARY KEY,
                private_key BYTEA NOT NULL CHECK (octet_length(private_key) = 32),
                public_key  BYTEA NOT NULL CHECK (octet_length(public_key) = 32),
                created_at  TIMESTAMPTZ NOT NULL,
                retired_at  TIMESTAMPTZ
            )
            """,
            """
            CREATE TABLE directory_clock (
                id      INTEGER PRIMARY KEY CHECK (id = 1),
                version BIGINT NOT NULL
            )
            """,
            "INSERT INTO directory_clock (id, version) VALUES (1, 0)",
        ]),
        // A transfer writes the player into the destination as `incoming` before activating them.
        // `players_state_check` is the name PostgreSQL gave the column constraint of version 1.
        Migration(version: 4, name: "transfer: incoming players", statements: [
            "ALTER TABLE players DROP CONSTRAINT players_state_check",
            "ALTER TABLE players ADD CONSTRAINT players_state_check CHECK (state IN ('active', 'frozen', 'tombstoned', 'incoming'))",
        ]),
        // The identity authority's record of every transfer saga; at most one open per player.
        Migration(version: 5, name: "transfer: sagas at the identity authority", statements: [
            """
            CREATE TABLE transfers (
                transfer_id UUID PRIMARY KEY,
                player_id   UUID NOT NULL REFERENCES accounts (player_id),
                from_region TEXT NOT NULL,
                to_region   TEXT NOT NULL,
                from_epoch  BIGINT NOT NULL CHECK (from_epoch >= 1),
                step        TEXT NOT NULL CHECK (step IN ('begun', 'frozen', 'copied', 'flipped', 'activated', 'done', 'rolling_back', 'rolled_back')),
                failure     TEXT,
                started_at  TIMESTAMPTZ NOT NULL,
                updated_at  TIMESTAMPTZ NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX transfers_open_per_player ON transfers (player_id) WHERE step NOT IN ('done', 'rolled_back')",
            "CREATE INDEX transfers_player ON transfers (player_id, started_at)",
        ]),
        // The single-activation fence of a player's actor (see `Activation`): a node serving the
        // player claims the next number, and every write of its actor must present the current one.
        Migration(version: 6, name: "players: activation fence", statements: [
            "ALTER TABLE players ADD COLUMN activation BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE players ADD COLUMN activation_node TEXT NOT NULL DEFAULT ''",
        ]),
        // Access tokens are signed with RSA keys (DER, ~1.2 KB private), Ed25519 ones (32 bytes) still read.
        Migration(version: 7, name: "identity: RSA signing keys", statements: [
            "ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_private_key_check",
            "ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_public_key_check",
            "ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_private_key_check CHECK (octet_length(private_key) BETWEEN 32 AND 8192)",
            "ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_public_key_check CHECK (octet_length(public_key) BETWEEN 32 AND 8192)",
        ]),
    ]
}

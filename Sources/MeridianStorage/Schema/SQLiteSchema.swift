/// The SQLite schema. UUIDs are lowercase text, times are integer microseconds since 1970.
enum SQLiteSchema {
    static let createMigrationsTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        ) STRICT
        """

    static let migrations: [Migration] = [
        Migration(version: 1, name: "players, match history, ledger, trades", statements: [
            """
            CREATE TABLE players (
                player_id    TEXT PRIMARY KEY,
                display_name TEXT NOT NULL,
                home_region  TEXT NOT NULL,
                created_at   INTEGER NOT NULL,
                epoch        INTEGER NOT NULL CHECK (epoch >= 1),
                state        TEXT NOT NULL CHECK (state IN ('active', 'frozen', 'tombstoned')),
                xp           INTEGER NOT NULL DEFAULT 0 CHECK (xp >= 0),
                level        INTEGER NOT NULL DEFAULT 1,
                ledger_seq   INTEGER NOT NULL DEFAULT 0
            ) STRICT
            """,
            """
            CREATE TABLE match_history (
                player_id   TEXT NOT NULL REFERENCES players (player_id),
                match_id    TEXT NOT NULL,
                finished_at INTEGER NOT NULL,
                outcome     TEXT NOT NULL,
                xp_awarded  INTEGER NOT NULL,
                summary     BLOB NOT NULL,
                PRIMARY KEY (player_id, match_id)
            ) STRICT
            """,
            "CREATE INDEX match_history_recent ON match_history (player_id, finished_at DESC)",
            """
            CREATE TABLE ledger_events (
                player_id       TEXT NOT NULL,
                seq             INTEGER NOT NULL,
                kind            TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                epoch           INTEGER NOT NULL,
                trade_id        TEXT,
                reason          TEXT NOT NULL,
                recorded_at     INTEGER NOT NULL,
                PRIMARY KEY (player_id, seq),
                UNIQUE (player_id, idempotency_key)
            ) STRICT, WITHOUT ROWID
            """,
            "CREATE INDEX ledger_events_trade ON ledger_events (trade_id) WHERE trade_id IS NOT NULL",
            """
            CREATE TABLE ledger_lines (
                player_id     TEXT NOT NULL,
                seq           INTEGER NOT NULL,
                item          TEXT NOT NULL,
                delta         INTEGER NOT NULL,
                balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
                PRIMARY KEY (player_id, seq, item)
            ) STRICT, WITHOUT ROWID
            """,
            """
            CREATE TABLE ledger_balances (
                player_id TEXT NOT NULL,
                item      TEXT NOT NULL,
                quantity  INTEGER NOT NULL CHECK (quantity >= 0),
                as_of_seq INTEGER NOT NULL,
                PRIMARY KEY (player_id, item)
            ) STRICT, WITHOUT ROWID
            """,
            """
            CREATE TABLE ledger_snapshots (
                player_id TEXT NOT NULL,
                seq       INTEGER NOT NULL,
                item      TEXT NOT NULL,
                quantity  INTEGER NOT NULL,
                PRIMARY KEY (player_id, seq, item)
            ) STRICT, WITHOUT ROWID
            """,
            """
            CREATE TABLE ledger_replays (
                id              INTEGER PRIMARY KEY,
                player_id       TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                seq             INTEGER NOT NULL,
                replayed_at     INTEGER NOT NULL
            ) STRICT
            """,
            "CREATE INDEX ledger_replays_player ON ledger_replays (player_id, id)",
            """
            CREATE TABLE trade_outbox (
                trade_id           TEXT PRIMARY KEY,
                giver              TEXT NOT NULL,
                receiver           TEXT NOT NULL,
                destination_region TEXT NOT NULL,
                status             TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'refunded')),
                created_at         INTEGER NOT NULL,
                settled_at         INTEGER
            ) STRICT
            """,
            "CREATE INDEX trade_outbox_pending ON trade_outbox (created_at) WHERE status = 'pending'",
            """
            CREATE TABLE trade_outbox_items (
                trade_id TEXT NOT NULL REFERENCES trade_outbox (trade_id),
                item     TEXT NOT NULL,
                quantity INTEGER NOT NULL CHECK (quantity > 0),
                PRIMARY KEY (trade_id, item)
            ) STRICT, WITHOUT ROWID
            """,
            """
            CREATE TABLE trade_inbox (
                trade_id    TEXT PRIMARY KEY,
                receiver    TEXT NOT NULL,
                decision    TEXT NOT NULL CHECK (decision IN ('delivered', 'rejected')),
                reason      TEXT NOT NULL,
                recorded_at INTEGER NOT NULL
            ) STRICT
            """,
        ]),
        // Match results are ledger events (`match_reward`, which may have no lines) applied with their
        // history row; outcomes gained `server_lost` (text, no constraint to change). Existing players
        // get the initial rating (SkillRating.initial).
        Migration(version: 2, name: "skill ratings", statements: [
            "ALTER TABLE players ADD COLUMN skill_rating REAL NOT NULL DEFAULT 1500",
            "ALTER TABLE players ADD COLUMN skill_deviation REAL NOT NULL DEFAULT 350",
            "ALTER TABLE players ADD COLUMN skill_volatility REAL NOT NULL DEFAULT 0.06",
        ]),
        // The identity authority's tables: every store gets them, only the `identity_authority` region's
        // store fills them. `directory_clock` is one row, not a
        // sequence: a change takes the next version by updating it inside its own transaction, so the
        // row lock hands out versions in commit order.
        Migration(version: 3, name: "identity: accounts, login methods, refresh tokens, signing keys", statements: [
            """
            CREATE TABLE accounts (
                player_id         TEXT PRIMARY KEY,
                display_name      TEXT NOT NULL,
                state             TEXT NOT NULL CHECK (state IN ('active', 'banned')),
                home_region       TEXT NOT NULL,
                epoch             INTEGER NOT NULL CHECK (epoch >= 1),
                created_at        INTEGER NOT NULL,
                directory_version INTEGER NOT NULL UNIQUE
            ) STRICT
            """,
            """
            CREATE TABLE login_methods (
                kind      TEXT NOT NULL CHECK (kind IN ('password', 'device', 'platform', 'dev')),
                subject   TEXT NOT NULL,
                player_id TEXT NOT NULL REFERENCES accounts (player_id),
                secret    TEXT,
                linked_at INTEGER NOT NULL,
                PRIMARY KEY (kind, subject)
            ) STRICT, WITHOUT ROWID
            """,
            "CREATE INDEX login_methods_player ON login_methods (player_id)",
            """
            CREATE TABLE refresh_tokens (
                token_hash        BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
                family            TEXT NOT NULL,
                player_id         TEXT NOT NULL REFERENCES accounts (player_id),
                issued_at         INTEGER NOT NULL,
                expires_at        INTEGER NOT NULL,
                family_expires_at INTEGER NOT NULL,
                spent_at          INTEGER,
                revoked_at        INTEGER
            ) STRICT, WITHOUT ROWID
            """,
            "CREATE INDEX refresh_tokens_family ON refresh_tokens (family)",
            "CREATE INDEX refresh_tokens_player ON refresh_tokens (player_id)",
            """
            CREATE TABLE signing_keys (
                key_id      TEXT PRIMARY KEY,
                private_key BLOB NOT NULL CHECK (length(private_key) = 32),
                public_key  BLOB NOT NULL CHECK (length(public_key) = 32),
                created_at  INTEGER NOT NULL,
                retired_at  INTEGER
            ) STRICT
            """,
            """
            CREATE TABLE directory_clock (
                id      INTEGER PRIMARY KEY CHECK (id = 1),
                version INTEGER NOT NULL
            ) STRICT
            """,
            "INSERT INTO directory_clock (id, version) VALUES (1, 0)",
        ]),
        // A transfer writes the player into the destination as `incoming` before activating them.
        // SQLite cannot alter a CHECK constraint, so `players` is rebuilt the documented way: create
        // the new table, copy the rows, drop the old one, rename (migrations run with foreign keys
        // checked at commit, as `match_history` references `players`). `players` has no index other
        // than its primary key, which the new table brings; no trigger or view refers to it.
        Migration(version: 4, name: "transfer: incoming players", statements: [
            """
            CREATE TABLE players_v4 (
                player_id        TEXT PRIMARY KEY,
                display_name     TEXT NOT NULL,
                home_region      TEXT NOT NULL,
                created_at       INTEGER NOT NULL,
                epoch            INTEGER NOT NULL CHECK (epoch >= 1),
                state            TEXT NOT NULL CHECK (state IN ('active', 'frozen', 'tombstoned', 'incoming')),
                xp               INTEGER NOT NULL DEFAULT 0 CHECK (xp >= 0),
                level            INTEGER NOT NULL DEFAULT 1,
                ledger_seq       INTEGER NOT NULL DEFAULT 0,
                skill_rating     REAL NOT NULL DEFAULT 1500,
                skill_deviation  REAL NOT NULL DEFAULT 350,
                skill_volatility REAL NOT NULL DEFAULT 0.06
            ) STRICT
            """,
            """
            INSERT INTO players_v4 (player_id, display_name, home_region, created_at, epoch, state, xp, level, ledger_seq,
                                    skill_rating, skill_deviation, skill_volatility)
            SELECT player_id, display_name, home_region, created_at, epoch, state, xp, level, ledger_seq,
                   skill_rating, skill_deviation, skill_volatility
            FROM players
            """,
            "DROP TABLE players",
            "ALTER TABLE players_v4 RENAME TO players",
        ]),
        // The identity authority's record of every transfer saga; at most one open per player.
        Migration(version: 5, name: "transfer: sagas at the identity authority", statements: [
            """
            CREATE TABLE transfers (
                transfer_id TEXT PRIMARY KEY,
                player_id   TEXT NOT NULL REFERENCES accounts (player_id),
                from_region TEXT NOT NULL,
                to_region   TEXT NOT NULL,
                from_epoch  INTEGER NOT NULL CHECK (from_epoch >= 1),
                step        TEXT NOT NULL CHECK (step IN ('begun', 'frozen', 'copied', 'flipped', 'activated', 'done', 'rolling_back', 'rolled_back')),
                failure     TEXT,
                started_at  INTEGER NOT NULL,
                updated_at  INTEGER NOT NULL
            ) STRICT
            """,
            "CREATE UNIQUE INDEX transfers_open_per_player ON transfers (player_id) WHERE step NOT IN ('done', 'rolled_back')",
            "CREATE INDEX transfers_player ON transfers (player_id, started_at)",
        ]),
        // The single-activation fence of a player's actor (see `Activation`): a node serving the
        // player claims the next number, and every write of its actor must present the current one.
        Migration(version: 6, name: "players: activation fence", statements: [
            "ALTER TABLE players ADD COLUMN activation INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE players ADD COLUMN activation_node TEXT NOT NULL DEFAULT ''",
        ]),
        // Access tokens are signed with RSA keys (DER, ~1.2 KB private), Ed25519 ones (32 bytes) still read.
        Migration(version: 7, name: "identity: RSA signing keys", statements: [
            """
            CREATE TABLE signing_keys_v7 (
                key_id      TEXT PRIMARY KEY,
                private_key BLOB NOT NULL CHECK (length(private_key) BETWEEN 32 AND 8192),
                public_key  BLOB NOT NULL CHECK (length(public_key) BETWEEN 32 AND 8192),
                created_at  INTEGER NOT NULL,
                retired_at  INTEGER
            ) STRICT
            """,
            "INSERT INTO signing_keys_v7 (key_id, private_key, public_key, created_at, retired_at) SELECT key_id, private_key, public_key, created_at, retired_at FROM signing_keys",
            "DROP TABLE signing_keys",
            "ALTER TABLE signing_keys_v7 RENAME TO signing_keys",
        ]),
    ]
}

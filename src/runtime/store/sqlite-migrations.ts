/**
 * The SQLite schema, as versioned migrations. A shipped migration is immutable: change the
 * schema by appending a new one (`sqlite.test.ts` pins the checksums of the shipped ones).
 * Each runs in its own transaction and records its version in `schema_version`.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'state machines, executions, state, history, timers, tasks, activities, tags',
    sql: `
-- Definition texts, content-addressed (sha256 hex): executions pin the text they started with.
CREATE TABLE definitions (
  id   TEXT PRIMARY KEY,
  text TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE state_machines (
  arn           TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  type          TEXT NOT NULL,
  definition_id TEXT NOT NULL,
  role_arn      TEXT NOT NULL,
  revision_id   TEXT NOT NULL,
  creation_date INTEGER NOT NULL,
  options       TEXT NOT NULL
) WITHOUT ROWID;

-- Small rows (no state): list queries scan them through the indexes below.
CREATE TABLE executions (
  id                INTEGER PRIMARY KEY,
  arn               TEXT NOT NULL UNIQUE,
  state_machine_arn TEXT NOT NULL,
  name              TEXT NOT NULL,
  definition_id     TEXT NOT NULL,
  status            TEXT NOT NULL,
  start_date        INTEGER NOT NULL,
  stop_date         INTEGER,
  input             TEXT NOT NULL,
  output            TEXT,
  error             TEXT,
  cause             TEXT
);
-- ListExecutions, newest first, with and without a status filter.
CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_date DESC, id DESC);
CREATE INDEX executions_by_machine_status ON executions (state_machine_arn, status, start_date DESC, id DESC);
CREATE INDEX executions_running ON executions (id) WHERE status = 'RUNNING';

-- The interpreter state, rewritten on every step; version is the optimistic-concurrency check.
CREATE TABLE states (
  execution_id INTEGER PRIMARY KEY,
  version      INTEGER NOT NULL,
  state        TEXT NOT NULL
);

-- One row per history event. A rowid table: appends stay at the end of the table (a WITHOUT ROWID
-- table clustered by execution halved commit throughput); the unique index serves history reads.
CREATE TABLE events (
  seq          INTEGER PRIMARY KEY,
  execution_id INTEGER NOT NULL,
  event_id     INTEGER NOT NULL,
  body         TEXT NOT NULL
);
CREATE UNIQUE INDEX events_by_execution ON events (execution_id, event_id);

CREATE TABLE timers (
  execution_id INTEGER NOT NULL,
  timer_id     TEXT NOT NULL,
  due_time     INTEGER NOT NULL,
  PRIMARY KEY (execution_id, timer_id)
) WITHOUT ROWID;
CREATE INDEX timers_due ON timers (due_time, execution_id, timer_id);

-- In-flight tasks; seq orders activity queues (FIFO) and recovery listing.
CREATE TABLE tasks (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  execution_id INTEGER NOT NULL,
  task_id      TEXT NOT NULL,
  request      TEXT NOT NULL,
  status       TEXT NOT NULL,
  token        TEXT,
  activity_arn TEXT,
  worker_name  TEXT,
  claimed_at   INTEGER,
  UNIQUE (execution_id, task_id)
);
CREATE UNIQUE INDEX tasks_token ON tasks (token) WHERE token IS NOT NULL;
CREATE INDEX tasks_queue ON tasks (activity_arn, seq) WHERE status = 'queued';

CREATE TABLE activities (
  arn           TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  creation_date INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE tags (
  resource_arn TEXT NOT NULL,
  key          TEXT NOT NULL,
  value        TEXT NOT NULL,
  PRIMARY KEY (resource_arn, key)
) WITHOUT ROWID;
`,
  },
  {
    version: 2,
    description: 'states.fixed: the parts of a state that never change, stored once',
    sql: `
-- JSON text written once, at the execution's create (NULL for executions created before).
ALTER TABLE states ADD COLUMN fixed TEXT;
`,
  },
  {
    version: 3,
    description:
      'state machine versions and aliases; executions record the version and alias they started with',
    sql: `
-- The last version number handed out: numbers are never reused, even after a version is deleted.
ALTER TABLE state_machines ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0;

-- Immutable snapshots of a revision; arn is <state machine arn>:<version>.
CREATE TABLE state_machine_versions (
  arn               TEXT PRIMARY KEY,
  state_machine_arn TEXT NOT NULL,
  version           INTEGER NOT NULL,
  type              TEXT NOT NULL,
  definition_id     TEXT NOT NULL,
  role_arn          TEXT NOT NULL,
  revision_id       TEXT NOT NULL,
  description       TEXT,
  creation_date     INTEGER NOT NULL,
  options           TEXT NOT NULL
) WITHOUT ROWID;
-- ListStateMachineVersions, newest first; and "was this revision published already?".
CREATE UNIQUE INDEX state_machine_versions_by_machine ON state_machine_versions (state_machine_arn, version);
CREATE INDEX state_machine_versions_by_revision ON state_machine_versions (state_machine_arn, revision_id);

-- arn is <state machine arn>:<name>.
CREATE TABLE state_machine_aliases (
  arn               TEXT PRIMARY KEY,
  state_machine_arn TEXT NOT NULL,
  name              TEXT NOT NULL,
  description       TEXT,
  creation_date     INTEGER NOT NULL,
  update_date       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX state_machine_aliases_by_machine ON state_machine_aliases (state_machine_arn, creation_date, arn);

-- An alias's one or two routes; indexed by version so that deleting a version finds its aliases.
CREATE TABLE alias_routes (
  alias_arn   TEXT NOT NULL,
  position    INTEGER NOT NULL,
  version_arn TEXT NOT NULL,
  weight      INTEGER NOT NULL,
  PRIMARY KEY (alias_arn, position)
) WITHOUT ROWID;
CREATE INDEX alias_routes_by_version ON alias_routes (version_arn);

-- NULL for executions started with the unqualified ARN; ListExecutions by version or alias.
ALTER TABLE executions ADD COLUMN state_machine_version_arn TEXT;
ALTER TABLE executions ADD COLUMN state_machine_alias_arn TEXT;
CREATE INDEX executions_by_version ON executions (state_machine_version_arn, start_date DESC, id DESC)
  WHERE state_machine_version_arn IS NOT NULL;
CREATE INDEX executions_by_alias ON executions (state_machine_alias_arn, start_date DESC, id DESC)
  WHERE state_machine_alias_arn IS NOT NULL;
`,
  },
  {
    version: 4,
    description: 'tasks.seq without AUTOINCREMENT: no sqlite_sequence write per task',
    sql: `
-- AUTOINCREMENT wrote sqlite_sequence on every task insert (about a tenth of durable
-- throughput). A plain INTEGER PRIMARY KEY still numbers a new row above every row present,
-- which is what activity queues (FIFO) and the recovery listing need; only the number of a
-- deleted last row may be given again.
CREATE TABLE tasks_v4 (
  seq          INTEGER PRIMARY KEY,
  execution_id INTEGER NOT NULL,
  task_id      TEXT NOT NULL,
  request      TEXT NOT NULL,
  status       TEXT NOT NULL,
  token        TEXT,
  activity_arn TEXT,
  worker_name  TEXT,
  claimed_at   INTEGER,
  UNIQUE (execution_id, task_id)
);
INSERT INTO tasks_v4 (seq, execution_id, task_id, request, status, token, activity_arn, worker_name, claimed_at)
  SELECT seq, execution_id, task_id, request, status, token, activity_arn, worker_name, claimed_at FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_v4 RENAME TO tasks;
CREATE UNIQUE INDEX tasks_token ON tasks (token) WHERE token IS NOT NULL;
CREATE INDEX tasks_queue ON tasks (activity_arn, seq) WHERE status = 'queued';
`,
  },
];

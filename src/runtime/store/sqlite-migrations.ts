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
];

/**
 * The PostgreSQL schema, as versioned migrations. A shipped migration is immutable: change the
 * schema by appending a new one (`postgres.test.ts` pins the checksums of the shipped ones).
 * They run inside the store's schema (`search_path`), all pending ones in one transaction under
 * an advisory lock, and record their versions in `schema_version`. See ADR 0006.
 *
 * Key columns are `COLLATE "C"`: ARNs, keys and ids order bytewise, as in SQLite, whatever the
 * database's collation, and the indexes serve those orders.
 */
import type { Migration } from './sqlite-migrations.js';

export type { Migration };

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'state machines, executions, state, history, timers, tasks, activities, tags, leases',
    sql: `
-- Definition texts, content-addressed (sha256 hex): executions pin the text they started with.
CREATE TABLE definitions (
  id   text COLLATE "C" PRIMARY KEY,
  text text NOT NULL
);

CREATE TABLE state_machines (
  arn           text COLLATE "C" PRIMARY KEY,
  name          text NOT NULL,
  type          text NOT NULL,
  definition_id text NOT NULL,
  role_arn      text NOT NULL,
  revision_id   text NOT NULL,
  creation_date bigint NOT NULL,
  options       text NOT NULL
);

-- Small rows (no state): list queries walk the indexes below, backwards for newest first.
CREATE TABLE executions (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  arn               text COLLATE "C" NOT NULL UNIQUE,
  state_machine_arn text COLLATE "C" NOT NULL,
  name              text NOT NULL,
  definition_id     text NOT NULL,
  status            text COLLATE "C" NOT NULL,
  start_date        bigint NOT NULL,
  stop_date         bigint,
  input             text NOT NULL,
  output            text,
  error             text,
  cause             text
);
CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_date, id);
CREATE INDEX executions_by_machine_status ON executions (state_machine_arn, status, start_date, id);
CREATE INDEX executions_running ON executions (id) WHERE status = 'RUNNING';

-- The interpreter state, rewritten on every step (its own table: updates leave executions'
-- rows and indexes alone); version is the optimistic-concurrency check.
CREATE TABLE states (
  execution_id bigint PRIMARY KEY,
  version      integer NOT NULL,
  state        text NOT NULL
);

CREATE TABLE events (
  execution_id bigint NOT NULL,
  event_id     integer NOT NULL,
  body         text NOT NULL,
  PRIMARY KEY (execution_id, event_id)
);

CREATE TABLE timers (
  execution_id bigint NOT NULL,
  timer_id     text COLLATE "C" NOT NULL,
  due_time     bigint NOT NULL,
  PRIMARY KEY (execution_id, timer_id)
);
CREATE INDEX timers_due ON timers (due_time, execution_id, timer_id);

-- In-flight tasks; seq orders activity queues (FIFO) and recovery listing.
CREATE TABLE tasks (
  seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  execution_id bigint NOT NULL,
  task_id      text COLLATE "C" NOT NULL,
  request      text NOT NULL,
  status       text NOT NULL,
  token        text COLLATE "C",
  activity_arn text COLLATE "C",
  worker_name  text,
  claimed_at   bigint,
  UNIQUE (execution_id, task_id)
);
CREATE UNIQUE INDEX tasks_token ON tasks (token) WHERE token IS NOT NULL;
CREATE INDEX tasks_queue ON tasks (activity_arn, seq) WHERE status = 'queued';

CREATE TABLE activities (
  arn           text COLLATE "C" PRIMARY KEY,
  name          text NOT NULL,
  creation_date bigint NOT NULL
);

CREATE TABLE tags (
  resource_arn text COLLATE "C" NOT NULL,
  key          text COLLATE "C" NOT NULL,
  value        text NOT NULL,
  PRIMARY KEY (resource_arn, key)
);

-- Which node runs an execution (multi-node). Rows are kept on release so that the fencing
-- token only ever grows; expires_at is epoch ms of the database's clock.
CREATE TABLE leases (
  execution_arn text COLLATE "C" PRIMARY KEY,
  node_id       text NOT NULL,
  token         bigint NOT NULL,
  expires_at    bigint NOT NULL
);
CREATE INDEX leases_by_node ON leases (node_id);
`,
  },
  {
    version: 2,
    description: 'states.fixed: the parts of a state that never change, stored once',
    sql: `
-- JSON text written once, at the execution's create (NULL for executions created before).
ALTER TABLE states ADD COLUMN fixed text;
`,
  },
  {
    version: 3,
    description:
      'state machine versions and aliases; executions record the version and alias they started with',
    sql: `
-- The last version number handed out: numbers are never reused, even after a version is deleted.
ALTER TABLE state_machines ADD COLUMN last_version integer NOT NULL DEFAULT 0;

-- Immutable snapshots of a revision; arn is <state machine arn>:<version>.
CREATE TABLE state_machine_versions (
  arn               text COLLATE "C" PRIMARY KEY,
  state_machine_arn text COLLATE "C" NOT NULL,
  version           integer NOT NULL,
  type              text NOT NULL,
  definition_id     text NOT NULL,
  role_arn          text NOT NULL,
  revision_id       text COLLATE "C" NOT NULL,
  description       text,
  creation_date     bigint NOT NULL,
  options           text NOT NULL
);
-- ListStateMachineVersions, newest first; and "was this revision published already?".
CREATE UNIQUE INDEX state_machine_versions_by_machine ON state_machine_versions (state_machine_arn, version);
CREATE INDEX state_machine_versions_by_revision ON state_machine_versions (state_machine_arn, revision_id);

-- arn is <state machine arn>:<name>.
CREATE TABLE state_machine_aliases (
  arn               text COLLATE "C" PRIMARY KEY,
  state_machine_arn text COLLATE "C" NOT NULL,
  name              text NOT NULL,
  description       text,
  creation_date     bigint NOT NULL,
  update_date       bigint NOT NULL
);
CREATE INDEX state_machine_aliases_by_machine ON state_machine_aliases (state_machine_arn, creation_date, arn);

-- An alias's one or two routes; indexed by version so that deleting a version finds its aliases.
CREATE TABLE alias_routes (
  alias_arn   text COLLATE "C" NOT NULL,
  position    integer NOT NULL,
  version_arn text COLLATE "C" NOT NULL,
  weight      integer NOT NULL,
  PRIMARY KEY (alias_arn, position)
);
CREATE INDEX alias_routes_by_version ON alias_routes (version_arn);

-- NULL for executions started with the unqualified ARN; ListExecutions by version or alias.
ALTER TABLE executions ADD COLUMN state_machine_version_arn text COLLATE "C";
ALTER TABLE executions ADD COLUMN state_machine_alias_arn text COLLATE "C";
CREATE INDEX executions_by_version ON executions (state_machine_version_arn, start_date, id)
  WHERE state_machine_version_arn IS NOT NULL;
CREATE INDEX executions_by_alias ON executions (state_machine_alias_arn, start_date, id)
  WHERE state_machine_alias_arn IS NOT NULL;
`,
  },
];

-- Initial schema. @s. is replaced by the quoted schema name and a dot.
-- Times are timestamptz (microseconds); durations arrive as bigint
-- microseconds. Work items and events are duroxide's own JSON text.

-- One row per instance id that has any orchestrator-side state: created by
-- every enqueue and ack that targets the instance. It is the instance lock
-- (lock_token, locked_until) and, once an ack supplied name and version, the
-- instance record (has_record). Every transaction that touches an
-- instance's queue rows, executions, history or key/value rows locks this
-- row first.
CREATE TABLE @s.instances (
    instance_id           text PRIMARY KEY,
    lock_token            text UNIQUE,
    locked_until          timestamptz,
    has_record            boolean NOT NULL DEFAULT false,
    name                  text,
    version               text,
    current_execution_id  bigint,
    parent_instance_id    text,
    custom_status         text,
    custom_status_version bigint NOT NULL DEFAULT 0,
    created_at            timestamptz,
    created_seq           bigint,
    updated_at            timestamptz
);
CREATE INDEX instances_parent ON @s.instances (parent_instance_id) WHERE parent_instance_id IS NOT NULL;
CREATE INDEX instances_created ON @s.instances (created_at, created_seq) WHERE has_record;

CREATE SEQUENCE @s.record_seq;

-- Execution records, created by acks. History may exist without one
-- (AppendWithExecution).
CREATE TABLE @s.executions (
    instance_id   text   NOT NULL,
    execution_id  bigint NOT NULL,
    status        text   NOT NULL,
    output        text,
    started_at    timestamptz NOT NULL,
    completed_at  timestamptz,
    pinned_major  numeric(20),
    pinned_minor  numeric(20),
    pinned_patch  numeric(20),
    PRIMARY KEY (instance_id, execution_id)
);

-- History: one row per event, the event's JSON as text.
CREATE TABLE @s.history (
    instance_id  text   NOT NULL,
    execution_id bigint NOT NULL,
    event_id     bigint NOT NULL,
    event        text   NOT NULL,
    PRIMARY KEY (instance_id, execution_id, event_id)
);

-- Orchestrator queue. batch is the token of the fetch that last took the
-- message; attempts counts deliveries.
CREATE TABLE @s.orchestrator_queue (
    id          bigserial PRIMARY KEY,
    instance_id text        NOT NULL,
    kind        text        NOT NULL,
    item        text        NOT NULL,
    visible_at  timestamptz NOT NULL,
    attempts    integer     NOT NULL DEFAULT 0,
    batch       text
);
CREATE INDEX orchestrator_queue_instance ON @s.orchestrator_queue (instance_id, id);
CREATE INDEX orchestrator_queue_visible ON @s.orchestrator_queue (visible_at, id);

-- Worker queue: one ActivityExecute per row, with its identity, session and
-- tag split out for the fetch's filters and cancellation.
CREATE TABLE @s.worker_queue (
    id           bigserial PRIMARY KEY,
    instance_id  text        NOT NULL,
    execution_id bigint      NOT NULL,
    activity_id  bigint      NOT NULL,
    session_id   text,
    tag          text,
    item         text        NOT NULL,
    visible_at   timestamptz NOT NULL,
    lock_token   text UNIQUE,
    locked_until timestamptz,
    attempts     integer     NOT NULL DEFAULT 0
);
CREATE INDEX worker_queue_activity ON @s.worker_queue (instance_id, execution_id, activity_id);
CREATE INDEX worker_queue_session ON @s.worker_queue (session_id) WHERE session_id IS NOT NULL;

-- Sessions: the owner's lease and last activity.
CREATE TABLE @s.sessions (
    session_id    text PRIMARY KEY,
    owner_id      text        NOT NULL,
    locked_until  timestamptz NOT NULL,
    last_activity timestamptz NOT NULL
);
CREATE INDEX sessions_owner ON @s.sessions (owner_id);

-- Key/value state: the merged store (as of the last finished execution) and
-- the current execution's writes (value NULL is a tombstone).
CREATE TABLE @s.kv (
    instance_id     text   NOT NULL,
    key             text   NOT NULL,
    value           text   NOT NULL,
    last_updated_ms bigint NOT NULL,
    PRIMARY KEY (instance_id, key)
);
CREATE TABLE @s.kv_delta (
    instance_id     text   NOT NULL,
    key             text   NOT NULL,
    value           text,
    last_updated_ms bigint NOT NULL,
    PRIMARY KEY (instance_id, key)
);

// The state database's schema migrations, by name (moved out of statedb.ts, which opens and migrates).

/** One schema migration: a unique name (recorded in `schema_migrations` when applied) and its SQL. */
export interface Migration {
  name: string;
  sql: string;
}

/**
 * Schema migrations of opsdeck's own state database, applied in order, each recorded by name in
 * `schema_migrations` (issue #14: numbered by position alone, two branches adding one would
 * collide). The first five predate the names: a database whose `user_version` says they ran gets
 * their names recorded. Append new migrations at the end with a new name, never edit a released one.
 */
export const MIGRATIONS: readonly Migration[] = [
  // 1: alert history (fired / resolved / acknowledged / silenced) and the audit log.
  { name: 'alerts-and-audit', sql: `CREATE TABLE alert_events (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     check_id TEXT NOT NULL,
     event TEXT NOT NULL,
     status TEXT,
     message TEXT,
     until INTEGER
   );
   CREATE INDEX alert_events_check ON alert_events(check_id, at);
   CREATE TABLE audit (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT NOT NULL,
     outcome TEXT NOT NULL,
     detail TEXT
   );` },
  // 2: acknowledgements and silences of alerts, kept across restarts of the console.
  { name: 'alert-acks', sql: `CREATE TABLE alert_acks (
     check_id TEXT PRIMARY KEY,
     acknowledged_at INTEGER,
     fired_at INTEGER,
     silenced_until INTEGER,
     actor TEXT NOT NULL
   );` },
  // 3: backup verification results and the restore wizard's journal (issue #4). A run's `run`
  // column is the reduced step machine (src/domain/runbook.ts), `ctx` what resume/rollback need.
  { name: 'backup-verifications-and-restore-journal', sql: `CREATE TABLE backup_verifications (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     database TEXT NOT NULL,
     backup_id TEXT NOT NULL,
     ok INTEGER NOT NULL,
     message TEXT NOT NULL
   );
   CREATE INDEX backup_verifications_db ON backup_verifications(database, at);
   CREATE TABLE restore_runs (
     id TEXT PRIMARY KEY,
     database TEXT NOT NULL,
     db_path TEXT NOT NULL,
     backup_id TEXT NOT NULL,
     status TEXT NOT NULL,
     run TEXT NOT NULL,
     ctx TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX restore_runs_open ON restore_runs(status, db_path);
   CREATE TABLE restore_journal (
     id INTEGER PRIMARY KEY,
     run_id TEXT NOT NULL REFERENCES restore_runs(id),
     at INTEGER NOT NULL,
     step TEXT NOT NULL,
     event TEXT NOT NULL,
     detail TEXT
   );
   CREATE INDEX restore_journal_run ON restore_journal(run_id, id);` },
  // 4: the row-loss ledger (issue #10): per critical table, the ids known to exist and the ids that
  // went missing (JSON range lists), kept across restarts; and every loss noticed, brought back by
  // a restore, or knowingly accepted by an operator.
  { name: 'row-ledger', sql: `CREATE TABLE row_ledger (
     database TEXT NOT NULL,
     tbl TEXT NOT NULL,
     key TEXT,
     known TEXT NOT NULL,
     missing TEXT NOT NULL,
     missing_since INTEGER,
     seen_count INTEGER NOT NULL DEFAULT 0,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (database, tbl)
   );
   CREATE TABLE row_loss_events (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     database TEXT NOT NULL,
     tbl TEXT NOT NULL,
     event TEXT NOT NULL,
     ranges TEXT NOT NULL,
     rows INTEGER NOT NULL,
     run_id TEXT,
     actor TEXT
   );
   CREATE INDEX row_loss_events_db ON row_loss_events(database, at);` },
  // 5: named leases (src/state/lease.ts) and the scheduled backups' runs (src/state/backup-scheduler.ts),
  // issue #10. A run with no outcome is in flight: its child's pid and machine let another monitor
  // tell a live run from one whose monitor died.
  { name: 'leases-and-backup-runs', sql: `CREATE TABLE leases (
     name TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     pid INTEGER NOT NULL,
     host TEXT NOT NULL,
     boot_id TEXT NOT NULL,
     pid_ns TEXT NOT NULL,
     acquired_at INTEGER NOT NULL,
     renewed_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE TABLE backup_runs (
     id INTEGER PRIMARY KEY,
     database TEXT NOT NULL,
     due_at INTEGER NOT NULL,
     started_at INTEGER NOT NULL,
     finished_at INTEGER,
     outcome TEXT,
     backup_id TEXT,
     detail TEXT,
     owner TEXT NOT NULL,
     pid INTEGER NOT NULL,
     child_pid INTEGER,
     host TEXT NOT NULL,
     boot_id TEXT NOT NULL,
     pid_ns TEXT NOT NULL
   );
   CREATE INDEX backup_runs_db ON backup_runs(database, id);` },
  // The recovery engine's journal (src/engine/journal.ts, issue #14): every runbook's runs, their
  // steps and journal lines. Every restore run recorded so far is carried over — an unfinished one
  // resumes or rolls back after the upgrade as before; the old tables stay, unused.
  {
    name: 'engine-runs',
    sql: `CREATE TABLE runs (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     subject TEXT NOT NULL,
     target_key TEXT NOT NULL,
     hint TEXT NOT NULL,
     status TEXT NOT NULL,
     rolling_back INTEGER NOT NULL DEFAULT 0,
     cursor INTEGER NOT NULL,
     phase TEXT NOT NULL,
     params TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX runs_open ON runs(status, kind, target_key);
   CREATE TABLE run_steps (
     run_id TEXT NOT NULL REFERENCES runs(id),
     idx INTEGER NOT NULL,
     step_id TEXT NOT NULL,
     def TEXT NOT NULL,
     state TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     output TEXT,
     PRIMARY KEY (run_id, idx)
   );
   CREATE TABLE run_events (
     id INTEGER PRIMARY KEY,
     run_id TEXT NOT NULL REFERENCES runs(id),
     at INTEGER NOT NULL,
     step TEXT NOT NULL,
     event TEXT NOT NULL,
     detail TEXT
   );
   CREATE INDEX run_events_run ON run_events(run_id, id);
   INSERT INTO runs (id, kind, subject, target_key, hint, status, rolling_back, cursor, phase, params, started_at, updated_at)
     SELECT id, 'restore', database, db_path,
            'run: opsdeck restore --db ' || database || ' --resume, or --rollback' || coalesce(' (safety copy: ' || json_extract(ctx, '$.safetyDir') || ')', ''),
            status, coalesce(json_extract(ctx, '$.rollingBack'), 0), json_extract(run, '$.cursor'), json_extract(run, '$.phase'), ctx, started_at, updated_at
     FROM restore_runs;
   INSERT INTO run_steps (run_id, idx, step_id, def, state, attempts, output)
     SELECT r.id, CAST(s.key AS INTEGER), json_extract(s.value, '$.id'), s.value, json_extract(r.run, '$.states[' || s.key || ']'),
            CASE json_extract(r.run, '$.states[' || s.key || '].status') WHEN 'pending' THEN 0 ELSE 1 END, NULL
     FROM restore_runs r, json_each(r.run, '$.steps') s;
   INSERT INTO run_events (run_id, at, step, event, detail) SELECT run_id, at, step, event, detail FROM restore_journal ORDER BY id;`,
  },
  // Incidents (issue #18, src/state/incidents.ts): one row each, the checks of the alerts each
  // contains, and its own events (declared, opened by a rule, joined, raised, note, resolved,
  // reopened); the rest of its timeline is read from alert_events, audit and runs. At most one is
  // open at a time (the partial unique index): two monitors cannot both open one.
  {
    name: 'incidents',
    sql: `CREATE TABLE incidents (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     title TEXT NOT NULL,
     severity TEXT NOT NULL,
     status TEXT NOT NULL,
     opened_by TEXT NOT NULL,
     declared_at INTEGER NOT NULL,
     started_at INTEGER NOT NULL,
     resolved_at INTEGER,
     updated_at INTEGER NOT NULL
   );
   CREATE UNIQUE INDEX incidents_one_open ON incidents(status) WHERE status = 'open';
   CREATE TABLE incident_checks (
     incident_id TEXT NOT NULL REFERENCES incidents(id),
     check_id TEXT NOT NULL,
     joined_at INTEGER NOT NULL,
     PRIMARY KEY (incident_id, check_id)
   );
   CREATE TABLE incident_events (
     id INTEGER PRIMARY KEY,
     incident_id TEXT NOT NULL REFERENCES incidents(id),
     at INTEGER NOT NULL,
     kind TEXT NOT NULL,
     actor TEXT NOT NULL,
     detail TEXT
   );
   CREATE INDEX incident_events_incident ON incident_events(incident_id, at);`,
  },
  // Notifications (issue #19): the outbox (one row per message and channel, unique on its
  // idempotency key; sent rows pruned after a week) and the alerts each channel was told of, so that
  // every one of them gets its resolved message and its repeats.
  {
    name: 'notify-outbox',
    sql: `CREATE TABLE notify_outbox (
     id INTEGER PRIMARY KEY,
     key TEXT NOT NULL UNIQUE,
     channel TEXT NOT NULL,
     kind TEXT NOT NULL,
     subject TEXT NOT NULL,
     payload TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL,
     last_error TEXT,
     sent_at INTEGER
   );
   CREATE INDEX notify_outbox_due ON notify_outbox(status, next_at);
   CREATE INDEX notify_outbox_sent ON notify_outbox(channel, sent_at);
   CREATE TABLE notify_alerts (
     check_id TEXT NOT NULL,
     channel TEXT NOT NULL,
     subject TEXT NOT NULL,
     status TEXT NOT NULL,
     message TEXT NOT NULL,
     fired_at INTEGER NOT NULL,
     last_at INTEGER NOT NULL,
     PRIMARY KEY (check_id, channel)
   );`,
  },
  // Self-healing (issue #20): what the healer remembers per subject (attempts, the last action, whether
  // healing of it stopped and why, what it does next) and every action it took or declined.
  {
    name: 'heal',
    sql: `CREATE TABLE heal_state (
     subject TEXT PRIMARY KEY,
     attempts INTEGER NOT NULL DEFAULT 0,
     last_started_at INTEGER,
     last_ended_at INTEGER,
     last_trigger TEXT,
     ok_since INTEGER,
     baseline_restarts INTEGER,
     disabled_at INTEGER,
     disabled_reason TEXT,
     next_at INTEGER,
     next_what TEXT,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE heal_actions (
     id INTEGER PRIMARY KEY,
     subject TEXT NOT NULL,
     at INTEGER NOT NULL,
     ended_at INTEGER,
     kind TEXT NOT NULL,
     trigger TEXT,
     runbook TEXT,
     run_id TEXT,
     attempt INTEGER,
     outcome TEXT,
     detail TEXT,
     actor TEXT NOT NULL
   );
   CREATE INDEX heal_actions_subject ON heal_actions(subject, at);`,
  },
  // Failover (issue #21): which side of each pair serves (it survives a restart), its failed probes in a
  // row, the last switch (the hold-down counts from it) and what the pair's check says.
  {
    name: 'failover',
    sql: `CREATE TABLE failover_state (
     pair TEXT PRIMARY KEY,
     active TEXT NOT NULL CHECK (active IN ('primary', 'backup')),
     fails INTEGER NOT NULL DEFAULT 0,
     switched_at INTEGER,
     status TEXT NOT NULL DEFAULT 'ok',
     message TEXT,
     updated_at INTEGER NOT NULL
   );`,
  },
  // The daily log review (issue #23): each review's counts per source, and every ERROR/WARN pattern
  // seen, so the next review names the patterns that are new since. Capacity samples: database
  // sizes, disk use and Redis memory, sampled by the `capacity-sampler` lease holder; the values of
  // `probes:` (the console's sparklines and `opsdeck probes` read them back).
  {
    name: 'maintenance-routines',
    sql: `CREATE TABLE log_reviews (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     source TEXT NOT NULL,
     since INTEGER NOT NULL,
     lines INTEGER NOT NULL,
     errors INTEGER NOT NULL,
     warnings INTEGER NOT NULL
   );
   CREATE INDEX log_reviews_source ON log_reviews(source, at);
   CREATE TABLE log_patterns (
     source TEXT NOT NULL,
     level TEXT NOT NULL,
     pattern TEXT NOT NULL,
     first_seen INTEGER NOT NULL,
     last_seen INTEGER NOT NULL,
     last_count INTEGER NOT NULL,
     PRIMARY KEY (source, level, pattern)
   );
   CREATE TABLE capacity_samples (
     subject TEXT NOT NULL,
     at INTEGER NOT NULL,
     used REAL NOT NULL,
     total REAL,
     PRIMARY KEY (subject, at)
   );
   CREATE TABLE probe_values (
     name TEXT NOT NULL,
     at INTEGER NOT NULL,
     value REAL NOT NULL,
     PRIMARY KEY (name, at)
   );`,
  },
  // Issue #25: what each alert was when a channel was told of it firing (kind, target, host, severity,
  // start, runbook; JSON), so its resolved message — after a restart too — carries the same
  // Alertmanager labels as its firing one (Alertmanager knows an alert by its labels).
  {
    name: 'notify-alert-facts',
    sql: `ALTER TABLE notify_alerts ADD COLUMN facts TEXT;`,
  },
];

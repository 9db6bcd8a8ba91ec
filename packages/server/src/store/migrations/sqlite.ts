import type BetterSqlite3 from 'better-sqlite3';

/**
 * The summary-count triggers' one statement: add (sign 1) or remove (sign -1) the counts of verdicts for an item,
 * reading the item's fields from `item` (a row alias) and the verdicts from `from`.
 */
function countSql(sign: 1 | -1, item: string, good: string, modelId: string, from: string): string {
  return `INSERT INTO summary_counts (target_id, model_id, ok, ng, confirmed, adjusted)
      SELECT ${item}.target_id, ${modelId}, ${sign} * ${good}, ${sign} * (1 - ${good}), ${sign} * ${item}.confirmed,
        ${sign} * (${item}.confirmed = 1 AND ${item}.override_good IS NOT NULL AND ${item}.override_good <> ${good})
      ${from}
      ON CONFLICT (target_id, model_id) DO UPDATE SET ok = ok + excluded.ok, ng = ng + excluded.ng,
        confirmed = confirmed + excluded.confirmed, adjusted = adjusted + excluded.adjusted;`;
}

/** One verdict row (NEW or OLD of item_verdicts), counted for its item if that item counts. */
function countVerdict(sign: 1 | -1, verdict: 'NEW' | 'OLD'): string {
  return countSql(sign, 'i', `${verdict}.good`, `${verdict}.model_id`,
    `FROM items i WHERE i.pk = ${verdict}.item_pk AND i.is_training = 0 AND i.archived = 0`);
}

/** Every verdict of one item row (NEW or OLD of items), if that item counts. */
function countItem(sign: 1 | -1, item: 'NEW' | 'OLD'): string {
  return countSql(sign, item, 'v.good', 'v.model_id',
    `FROM item_verdicts v WHERE v.item_pk = ${item}.pk AND ${item}.is_training = 0 AND ${item}.archived = 0`);
}

/**
 * Schema migrations, in order; each runs once inside a transaction and bumps `user_version`.
 * Never edit a released one: append a new step.
 */
export const SQLITE_MIGRATIONS: string[] = [
  `
  CREATE TABLE clients (
    client_id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE licenses (
    license_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    limits_json TEXT NOT NULL,
    document TEXT NOT NULL,
    activated_at TEXT NOT NULL
  );
  CREATE INDEX licenses_by_client ON licenses(client_id, expires_at);
  CREATE TABLE items (
    pk INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    item_id TEXT NOT NULL,
    label TEXT,
    description TEXT,
    is_training INTEGER NOT NULL,
    good INTEGER,
    status TEXT NOT NULL DEFAULT 'pending',
    archived INTEGER NOT NULL DEFAULT 0,
    override_good INTEGER,
    confirmed INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    finished_date TEXT,
    UNIQUE (client_id, item_id)
  );
  CREATE TABLE images (
    image_id INTEGER PRIMARY KEY,
    item_pk INTEGER NOT NULL REFERENCES items(pk) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    raw_path TEXT NOT NULL,
    thumbnail_path TEXT NOT NULL,
    exif_json TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX images_by_item ON images(item_pk);
  CREATE TABLE annotations (
    annotation_id INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(image_id) ON DELETE CASCADE,
    x_min INTEGER NOT NULL, x_max INTEGER NOT NULL, y_min INTEGER NOT NULL, y_max INTEGER NOT NULL,
    notes TEXT,
    created_at TEXT NOT NULL
  );
  CREATE INDEX annotations_by_image ON annotations(image_id);
  CREATE TABLE models (
    model_id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    algorithm_id TEXT NOT NULL,
    algorithm_type TEXT NOT NULL,
    status TEXT NOT NULL,
    status_json TEXT,
    progress REAL NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 0,
    version TEXT NOT NULL,
    overrides_json TEXT NOT NULL,
    parameters_json TEXT NOT NULL,
    item_pks_json TEXT NOT NULL,
    evaluation_json TEXT,
    blob_path TEXT,
    ok_img_count INTEGER NOT NULL DEFAULT 0,
    ng_img_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX models_by_client ON models(client_id);
  CREATE TABLE assessments (
    image_id INTEGER NOT NULL REFERENCES images(image_id) ON DELETE CASCADE,
    model_id INTEGER NOT NULL REFERENCES models(model_id) ON DELETE CASCADE,
    item_pk INTEGER NOT NULL,
    score REAL NOT NULL,
    good INTEGER NOT NULL,
    threshold REAL NOT NULL,
    detected_objects INTEGER NOT NULL,
    detection_accuracy REAL NOT NULL,
    boxes_json TEXT NOT NULL,
    overlay_path TEXT NOT NULL,
    heatmap_path TEXT NOT NULL,
    created_at TEXT NOT NULL,
    finished_date TEXT NOT NULL,
    PRIMARY KEY (image_id, model_id)
  );
  CREATE INDEX assessments_by_item ON assessments(item_pk);
  CREATE TABLE jobs (
    job_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    client_id TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
  );
  CREATE INDEX jobs_by_status ON jobs(status, job_id);
  `,
  // Lists read each item's first image from this index without touching the table.
  `CREATE INDEX images_by_client ON images(client_id, item_pk, image_id);`,
  // Prediction-time parameters changed after training (threshold, min_detected_area, …), by name.
  `ALTER TABLE models ADD COLUMN prediction_overrides_json TEXT NOT NULL DEFAULT '{}';`,
  `
  CREATE TABLE callbacks (
    callback_id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX callbacks_by_client ON callbacks(client_id);
  `,
  // Inspection targets: every client gets a default target (name NULL: shown as the catalogue's title) holding
  // its existing items and models. A failed prediction leaves its reason on the item. Callbacks may be limited
  // to one model, and their notifications wait in a persisted outbox until delivered.
  `
  CREATE TABLE targets (
    target_id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    name TEXT,
    is_default INTEGER NOT NULL DEFAULT 0,
    mqtt_url TEXT,
    created_at TEXT NOT NULL
  );
  CREATE UNIQUE INDEX targets_by_name ON targets(client_id, name);
  CREATE UNIQUE INDEX targets_default ON targets(client_id) WHERE is_default = 1;
  INSERT INTO targets (client_id, name, is_default, created_at) SELECT client_id, NULL, 1, created_at FROM clients;
  ALTER TABLE items ADD COLUMN target_id INTEGER REFERENCES targets(target_id);
  UPDATE items SET target_id = (SELECT t.target_id FROM targets t WHERE t.client_id = items.client_id AND t.is_default = 1);
  ALTER TABLE models ADD COLUMN target_id INTEGER REFERENCES targets(target_id);
  UPDATE models SET target_id = (SELECT t.target_id FROM targets t WHERE t.client_id = models.client_id AND t.is_default = 1);
  CREATE INDEX items_by_target ON items(client_id, target_id, pk);
  CREATE INDEX items_by_target_status ON items(client_id, target_id, status, pk);
  ALTER TABLE items ADD COLUMN prediction_error TEXT;
  ALTER TABLE callbacks ADD COLUMN model_id INTEGER REFERENCES models(model_id) ON DELETE CASCADE;
  CREATE TABLE callback_deliveries (
    delivery_id INTEGER PRIMARY KEY,
    callback_id INTEGER NOT NULL REFERENCES callbacks(callback_id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT
  );
  CREATE INDEX callback_deliveries_due ON callback_deliveries(status, next_attempt_at);
  CREATE INDEX callback_deliveries_by_callback ON callback_deliveries(callback_id, delivery_id);
  `,
  // The summary of GET /items counts, per target and model, the OK/NG verdicts of predict items (an item is OK when
  // all its images are), the confirmed ones and the overridden ones. Counting 100,000 items per request is too slow,
  // so triggers keep the counts: item_verdicts holds each (item, model) verdict, summary_counts their sums over the
  // items that count (not training, not archived). Every write path (upserted assessments, reviews, archiving,
  // deleting items or models, cascades included) goes through these triggers.
  `
  CREATE INDEX items_training_labels ON items(client_id, target_id, is_training, archived, good);
  CREATE TABLE item_verdicts (
    item_pk INTEGER NOT NULL,
    model_id INTEGER NOT NULL,
    good INTEGER NOT NULL,
    PRIMARY KEY (item_pk, model_id)
  ) WITHOUT ROWID;
  CREATE TABLE summary_counts (
    target_id INTEGER NOT NULL,
    model_id INTEGER NOT NULL,
    ok INTEGER NOT NULL DEFAULT 0,
    ng INTEGER NOT NULL DEFAULT 0,
    confirmed INTEGER NOT NULL DEFAULT 0,
    adjusted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (target_id, model_id)
  ) WITHOUT ROWID;
  CREATE TRIGGER item_verdicts_added AFTER INSERT ON item_verdicts BEGIN
    ${countVerdict(1, 'NEW')}
  END;
  CREATE TRIGGER item_verdicts_changed AFTER UPDATE ON item_verdicts BEGIN
    ${countVerdict(-1, 'OLD')}
    ${countVerdict(1, 'NEW')}
  END;
  CREATE TRIGGER item_verdicts_removed AFTER DELETE ON item_verdicts BEGIN
    ${countVerdict(-1, 'OLD')}
  END;
  CREATE TRIGGER assessments_added AFTER INSERT ON assessments BEGIN
    INSERT INTO item_verdicts (item_pk, model_id, good)
      VALUES (NEW.item_pk, NEW.model_id, (SELECT MIN(good) FROM assessments WHERE item_pk = NEW.item_pk AND model_id = NEW.model_id))
      ON CONFLICT (item_pk, model_id) DO UPDATE SET good = excluded.good;
  END;
  CREATE TRIGGER assessments_changed AFTER UPDATE OF good ON assessments BEGIN
    INSERT INTO item_verdicts (item_pk, model_id, good)
      VALUES (NEW.item_pk, NEW.model_id, (SELECT MIN(good) FROM assessments WHERE item_pk = NEW.item_pk AND model_id = NEW.model_id))
      ON CONFLICT (item_pk, model_id) DO UPDATE SET good = excluded.good;
  END;
  CREATE TRIGGER assessments_removed AFTER DELETE ON assessments BEGIN
    DELETE FROM item_verdicts WHERE item_pk = OLD.item_pk AND model_id = OLD.model_id
      AND NOT EXISTS (SELECT 1 FROM assessments WHERE item_pk = OLD.item_pk AND model_id = OLD.model_id);
    UPDATE item_verdicts SET good = (SELECT MIN(good) FROM assessments WHERE item_pk = OLD.item_pk AND model_id = OLD.model_id)
      WHERE item_pk = OLD.item_pk AND model_id = OLD.model_id;
  END;
  CREATE TRIGGER items_counted_changed AFTER UPDATE OF is_training, archived, confirmed, override_good ON items BEGIN
    ${countItem(-1, 'OLD')}
    ${countItem(1, 'NEW')}
  END;
  -- Before the row goes, while the item's fields are still there to subtract its verdicts.
  CREATE TRIGGER items_removed BEFORE DELETE ON items BEGIN
    DELETE FROM item_verdicts WHERE item_pk = OLD.pk;
  END;
  INSERT INTO item_verdicts (item_pk, model_id, good) SELECT item_pk, model_id, MIN(good) FROM assessments GROUP BY item_pk, model_id;
  `,
  // Installation secrets live in the database, so that every API server of a scale-out installation signs and checks
  // the same tokens (a data folder's keys/ files are moved in at the first start). A job running on a worker
  // holds a lease it renews; a lease that runs out means the worker died, and the job is given to another.
  `
  CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  ALTER TABLE jobs ADD COLUMN worker_id TEXT;
  ALTER TABLE jobs ADD COLUMN lease_expires_at INTEGER;
  `,
  // Sample-project runs (the web UI's "Load sample project"), so that any API server can report one's progress.
  `
  CREATE TABLE sample_projects (
    job_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    state_json TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX sample_projects_by_client ON sample_projects(client_id);
  `,
  // Failed logins, counted for every API server alike (they were kept in each server's memory).
  `
  CREATE TABLE login_failures (
    client_id TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at INTEGER NOT NULL
  );
  CREATE INDEX login_failures_by_time ON login_failures(last_at);
  `,
  // Training items are done from their upload (nothing waits for them), as the original answered.
  `
  UPDATE items SET status = 'done' WHERE is_training = 1 AND status = 'pending';
  `,
  // A deleted model's id is never given again (AUTOINCREMENT): an id names one model for ever, so a worker's cache,
  // a callback receiver or a line system never takes a new model for a deleted one. SQLite cannot add
  // AUTOINCREMENT to a table: it is rebuilt (foreign keys are off while migrations run, see migrateSqlite). Ids
  // deleted before this step are remembered through the jobs that trained them.
  `
  CREATE TABLE models_rebuilt (
    model_id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    algorithm_id TEXT NOT NULL,
    algorithm_type TEXT NOT NULL,
    status TEXT NOT NULL,
    status_json TEXT,
    progress REAL NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 0,
    version TEXT NOT NULL,
    overrides_json TEXT NOT NULL,
    parameters_json TEXT NOT NULL,
    item_pks_json TEXT NOT NULL,
    evaluation_json TEXT,
    blob_path TEXT,
    ok_img_count INTEGER NOT NULL DEFAULT 0,
    ng_img_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    prediction_overrides_json TEXT NOT NULL DEFAULT '{}',
    target_id INTEGER REFERENCES targets(target_id)
  );
  INSERT INTO models_rebuilt (model_id, client_id, name, algorithm_id, algorithm_type, status, status_json, progress, active, version,
    overrides_json, parameters_json, item_pks_json, evaluation_json, blob_path, ok_img_count, ng_img_count, created_at, updated_at,
    prediction_overrides_json, target_id)
  SELECT model_id, client_id, name, algorithm_id, algorithm_type, status, status_json, progress, active, version,
    overrides_json, parameters_json, item_pks_json, evaluation_json, blob_path, ok_img_count, ng_img_count, created_at, updated_at,
    prediction_overrides_json, target_id FROM models;
  DROP TABLE models;
  ALTER TABLE models_rebuilt RENAME TO models;
  CREATE INDEX models_by_client ON models(client_id);
  DELETE FROM sqlite_sequence WHERE name = 'models';
  INSERT INTO sqlite_sequence (name, seq) VALUES ('models', MAX(
    (SELECT COALESCE(MAX(model_id), 0) FROM models),
    (SELECT COALESCE(MAX(CAST(json_extract(payload_json, '$.modelId') AS INTEGER)), 0) FROM jobs)));
  `,
  // An item moved to another target moves its verdicts' counts with it (the trigger watched every counted field but the
  // target).
  `
  DROP TRIGGER items_counted_changed;
  CREATE TRIGGER items_counted_changed AFTER UPDATE OF is_training, archived, confirmed, override_good, target_id ON items BEGIN
    ${countItem(-1, 'OLD')}
    ${countItem(1, 'NEW')}
  END;
  `,
];

/** Runs the migrations not yet applied, up to `upTo` (all by default; tests stop earlier to build an old schema). */
export function migrateSqlite(db: BetterSqlite3.Database, upTo = SQLITE_MIGRATIONS.length): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current >= upTo) return;
  // A step that rebuilds a table must not cascade deletes into the tables that refer to it: foreign keys are off
  // while steps run (SQLite ignores this pragma inside a transaction) and checked before each step commits; a
  // database that had broken references before keeps them, but no step may add one.
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF');
  const brokenBefore = (db.pragma('foreign_key_check') as unknown[]).length;
  try {
    for (let version = current; version < upTo; version++) {
      db.transaction(() => {
        db.exec(SQLITE_MIGRATIONS[version]);
        const broken = db.pragma('foreign_key_check') as unknown[];
        if (broken.length > brokenBefore) throw new Error(`migration ${version + 1} would break foreign keys: ${JSON.stringify(broken.slice(0, 3))}`);
        db.pragma(`user_version = ${version + 1}`);
      })();
    }
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
}

import { dropTrigger, rowTrigger, type Dialect } from './dialect.ts';

/**
 * The database schema, as the ordered steps that build it: each written once, for SQLite and PostgreSQL alike,
 * spelled per database only where they differ (`dialect.ts`). A step runs once, in a transaction, and sets the
 * schema version its database records (SQLite's `user_version`, PostgreSQL's `kensa_schema`).
 *
 * Never edit a released step (databases have run it): append one. Each step names its version in both
 * databases, and these numbers are the databases' own: PostgreSQL came when SQLite was at version 7, so its
 * version 1 is steps 1 to 7 run together; SQLite's 11th step rebuilds a table for what PostgreSQL's identity
 * columns did from the start.
 */
export interface Migration {
  version: { sqlite: number; postgres: number | null };
  sql(d: Dialect): string;
}

/**
 * The summary-count triggers' one statement: add (sign 1) or remove (sign -1) the counts of verdicts for an item,
 * reading the item's fields from `item` (a row alias) and the verdicts from `from`. Booleans are integers in both
 * databases; PostgreSQL does not multiply a comparison's boolean (hence CASE) and wants the updated table named in
 * ON CONFLICT's SET.
 */
function countSql(d: Dialect, sign: 1 | -1, item: string, good: string, modelId: string, from: string): string {
  const overridden = `${item}.confirmed = 1 AND ${item}.override_good IS NOT NULL AND ${item}.override_good <> ${good}`;
  const current = d.name === 'sqlite' ? '' : 'summary_counts.';
  return `INSERT INTO summary_counts (target_id, model_id, ok, ng, confirmed, adjusted)
      SELECT ${item}.target_id, ${modelId}, ${sign} * ${good}, ${sign} * (1 - ${good}), ${sign} * ${item}.confirmed,
        ${d.name === 'sqlite' ? `${sign} * (${overridden})` : `CASE WHEN ${overridden} THEN ${sign} ELSE 0 END`}
      ${from}
      ON CONFLICT (target_id, model_id) DO UPDATE SET ok = ${current}ok + excluded.ok, ng = ${current}ng + excluded.ng,
        confirmed = ${current}confirmed + excluded.confirmed, adjusted = ${current}adjusted + excluded.adjusted;`;
}

/** One verdict row (NEW or OLD of item_verdicts), counted for its item if that item counts. */
function countVerdict(d: Dialect, sign: 1 | -1, verdict: 'NEW' | 'OLD'): string {
  return countSql(d, sign, 'i', `${verdict}.good`, `${verdict}.model_id`,
    `FROM items i WHERE i.pk = ${verdict}.item_pk AND i.is_training = 0 AND i.archived = 0`);
}

/** Every verdict of one item row (NEW or OLD of items), if that item counts. */
function countItem(d: Dialect, sign: 1 | -1, item: 'NEW' | 'OLD'): string {
  return countSql(d, sign, item, 'v.good', 'v.model_id',
    `FROM item_verdicts v WHERE v.item_pk = ${item}.pk AND ${item}.is_training = 0 AND ${item}.archived = 0`);
}

/** The verdict of the item and model of the assessment just written: OK when all its images are. */
const itemVerdictOfNewAssessment = `INSERT INTO item_verdicts (item_pk, model_id, good)
      VALUES (NEW.item_pk, NEW.model_id, (SELECT MIN(good) FROM assessments WHERE item_pk = NEW.item_pk AND model_id = NEW.model_id))
      ON CONFLICT (item_pk, model_id) DO UPDATE SET good = excluded.good;`;

/**
 * Counts a verdict row in, out, or out and in again. SQLite has a trigger per event; PostgreSQL's schema has one
 * trigger for the three, asking which event fired.
 */
function itemVerdictsCounted(d: Dialect): string {
  const table = 'item_verdicts';
  if (d.name === 'postgres') {
    return rowTrigger(d, {
      name: 'item_verdicts_counted', event: 'AFTER INSERT OR UPDATE OR DELETE', table, statements: [
        `IF TG_OP IN ('UPDATE', 'DELETE') THEN`, `  ${countVerdict(d, -1, 'OLD')}`, 'END IF;',
        `IF TG_OP IN ('INSERT', 'UPDATE') THEN`, `  ${countVerdict(d, 1, 'NEW')}`, 'END IF;',
      ],
    });
  }
  return [
    rowTrigger(d, { name: 'item_verdicts_added', event: 'AFTER INSERT', table, statements: [countVerdict(d, 1, 'NEW')] }),
    rowTrigger(d, { name: 'item_verdicts_changed', event: 'AFTER UPDATE', table, statements: [countVerdict(d, -1, 'OLD'), countVerdict(d, 1, 'NEW')] }),
    rowTrigger(d, { name: 'item_verdicts_removed', event: 'AFTER DELETE', table, statements: [countVerdict(d, -1, 'OLD')] }),
  ].join('\n  ');
}

/** Moves an item's verdict counts when a field that decides whether or where it counts changes. */
const itemsCountedChanged = (d: Dialect, fields: string, fnMadeBefore = false) => rowTrigger(d, {
  name: 'items_counted_changed', event: `AFTER UPDATE OF ${fields}`, table: 'items', fnMadeBefore,
  statements: [countItem(d, -1, 'OLD'), countItem(d, 1, 'NEW')],
});

export const MIGRATIONS: Migration[] = [
  {
    version: { sqlite: 1, postgres: 1 },
    sql: (d) => `
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
    pk ${d.generatedKey},
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
    image_id ${d.generatedKey},
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
    annotation_id ${d.generatedKey},
    image_id INTEGER NOT NULL REFERENCES images(image_id) ON DELETE CASCADE,
    x_min INTEGER NOT NULL, x_max INTEGER NOT NULL, y_min INTEGER NOT NULL, y_max INTEGER NOT NULL,
    notes TEXT,
    created_at TEXT NOT NULL
  );
  CREATE INDEX annotations_by_image ON annotations(image_id);
  CREATE TABLE models (
    model_id ${d.generatedKey},
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    algorithm_id TEXT NOT NULL,
    algorithm_type TEXT NOT NULL,
    status TEXT NOT NULL,
    status_json TEXT,
    progress ${d.double} NOT NULL DEFAULT 0,
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
    score ${d.double} NOT NULL,
    good INTEGER NOT NULL,
    threshold ${d.double} NOT NULL,
    detected_objects INTEGER NOT NULL,
    detection_accuracy ${d.double} NOT NULL,
    boxes_json TEXT NOT NULL,
    overlay_path TEXT NOT NULL,
    heatmap_path TEXT NOT NULL,
    created_at TEXT NOT NULL,
    finished_date TEXT NOT NULL,
    PRIMARY KEY (image_id, model_id)
  );
  CREATE INDEX assessments_by_item ON assessments(item_pk);
  CREATE TABLE jobs (
    job_id ${d.generatedKey},
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
  },
  // Lists read each item's first image from this index without touching the table.
  {
    version: { sqlite: 2, postgres: 1 },
    sql: (d) => `CREATE INDEX images_by_client ON images(client_id, item_pk, image_id);`,
  },
  // Prediction-time parameters changed after training (threshold, min_detected_area, …), by name.
  {
    version: { sqlite: 3, postgres: 1 },
    sql: (d) => `ALTER TABLE models ADD COLUMN prediction_overrides_json TEXT NOT NULL DEFAULT '{}';`,
  },
  {
    version: { sqlite: 4, postgres: 1 },
    sql: (d) => `
  CREATE TABLE callbacks (
    callback_id ${d.generatedKey},
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX callbacks_by_client ON callbacks(client_id);
  `,
  },
  // Inspection targets: every client gets a default target (name NULL: shown as the catalogue's title) holding
  // its existing items and models. A failed prediction leaves its reason on the item. Callbacks may be limited
  // to one model, and their notifications wait in a persisted outbox until delivered.
  {
    version: { sqlite: 5, postgres: 1 },
    sql: (d) => `
  CREATE TABLE targets (
    target_id ${d.generatedKey},
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
    delivery_id ${d.generatedKey},
    callback_id INTEGER NOT NULL REFERENCES callbacks(callback_id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at ${d.bigint} NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT
  );
  CREATE INDEX callback_deliveries_due ON callback_deliveries(status, next_attempt_at);
  CREATE INDEX callback_deliveries_by_callback ON callback_deliveries(callback_id, delivery_id);
  `,
  },
  // The summary of GET /items counts, per target and model, the OK/NG verdicts of predict items (an item is OK when
  // all its images are), the confirmed ones and the overridden ones. Counting 100,000 items per request is too slow,
  // so triggers keep the counts: item_verdicts holds each (item, model) verdict, summary_counts their sums over the
  // items that count (not training, not archived). Every write path (upserted assessments, reviews, archiving,
  // deleting items or models, cascades included) goes through these triggers.
  {
    version: { sqlite: 6, postgres: 1 },
    sql: (d) => `
  CREATE INDEX items_training_labels ON items(client_id, target_id, is_training, archived, good);
  CREATE TABLE item_verdicts (
    item_pk INTEGER NOT NULL,
    model_id INTEGER NOT NULL,
    good INTEGER NOT NULL,
    PRIMARY KEY (item_pk, model_id)
  )${d.withoutRowid};
  CREATE TABLE summary_counts (
    target_id INTEGER NOT NULL,
    model_id INTEGER NOT NULL,
    ok INTEGER NOT NULL DEFAULT 0,
    ng INTEGER NOT NULL DEFAULT 0,
    confirmed INTEGER NOT NULL DEFAULT 0,
    adjusted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (target_id, model_id)
  )${d.withoutRowid};
  ${itemVerdictsCounted(d)}
  ${rowTrigger(d, { name: 'assessments_added', fn: 'assessments_verdict_added', event: 'AFTER INSERT', table: 'assessments', statements: [itemVerdictOfNewAssessment] })}
  ${rowTrigger(d, {
    name: 'assessments_changed', fn: 'assessments_verdict_added', fnMadeBefore: true, event: 'AFTER UPDATE OF good', table: 'assessments',
    statements: [itemVerdictOfNewAssessment],
  })}
  ${rowTrigger(d, {
    name: 'assessments_removed', fn: 'assessments_verdict_removed', event: 'AFTER DELETE', table: 'assessments', statements: [
      `DELETE FROM item_verdicts WHERE item_pk = OLD.item_pk AND model_id = OLD.model_id
      AND NOT EXISTS (SELECT 1 FROM assessments WHERE item_pk = OLD.item_pk AND model_id = OLD.model_id);`,
      `UPDATE item_verdicts SET good = (SELECT MIN(good) FROM assessments WHERE item_pk = OLD.item_pk AND model_id = OLD.model_id)
      WHERE item_pk = OLD.item_pk AND model_id = OLD.model_id;`,
    ],
  })}
  ${itemsCountedChanged(d, 'is_training, archived, confirmed, override_good')}
  -- Before the row goes, while the item's fields are still there to subtract its verdicts.
  ${rowTrigger(d, { name: 'items_removed', event: 'BEFORE DELETE', table: 'items', returns: 'OLD', statements: ['DELETE FROM item_verdicts WHERE item_pk = OLD.pk;'] })}
  INSERT INTO item_verdicts (item_pk, model_id, good) SELECT item_pk, model_id, MIN(good) FROM assessments GROUP BY item_pk, model_id;
  `,
  },
  // Installation secrets live in the database, so that every API server of a scale-out installation signs and checks
  // the same tokens (a data folder's keys/ files are moved in at the first start). A job running on a worker
  // holds a lease it renews; a lease that runs out means the worker died, and the job is given to another.
  {
    version: { sqlite: 7, postgres: 1 },
    sql: (d) => `
  CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  ALTER TABLE jobs ADD COLUMN worker_id TEXT;
  ALTER TABLE jobs ADD COLUMN lease_expires_at ${d.bigint};
  `,
  },
  // Sample-project runs (the web UI's "Load sample project"), so that any API server can report one's progress.
  {
    version: { sqlite: 8, postgres: 2 },
    sql: (d) => `
  CREATE TABLE sample_projects (
    job_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    state_json TEXT NOT NULL,
    updated_at ${d.bigint} NOT NULL
  );
  CREATE INDEX sample_projects_by_client ON sample_projects(client_id);
  `,
  },
  // Failed logins, counted for every API server alike (they were kept in each server's memory).
  {
    version: { sqlite: 9, postgres: 3 },
    sql: (d) => `
  CREATE TABLE login_failures (
    client_id TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at ${d.bigint} NOT NULL
  );
  CREATE INDEX login_failures_by_time ON login_failures(last_at);
  `,
  },
  // Training items are done from their upload (nothing waits for them), as the original answered.
  {
    version: { sqlite: 10, postgres: 4 },
    sql: (d) => `
  UPDATE items SET status = 'done' WHERE is_training = 1 AND status = 'pending';
  `,
  },
  // A deleted model's id is never given again (AUTOINCREMENT): an id names one model for ever, so a worker's cache,
  // a callback receiver or a line system never takes a new model for a deleted one. SQLite cannot add
  // AUTOINCREMENT to a table: it is rebuilt (foreign keys are off while migrations run, see migrateSqlite). Ids
  // deleted before this step are remembered through the jobs that trained them.
  {
    version: { sqlite: 11, postgres: null },
    sql: () => `
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
  },
  // An item moved to another target moves its verdicts' counts with it (the trigger watched every counted field but the
  // target).
  {
    version: { sqlite: 12, postgres: 5 },
    sql: (d) => `
  ${dropTrigger(d, 'items_counted_changed', 'items')}
  ${itemsCountedChanged(d, 'is_training, archived, confirmed, override_good, target_id', true)}
  `,
  },
];

/** One database's versions in order (index 0 is version 1), each the SQL of the steps it is made of. */
export function versionsOf(d: Dialect): string[] {
  const versions: string[] = [];
  for (const migration of MIGRATIONS) {
    const version = migration.version[d.name];
    if (version === null) continue;
    if (version !== versions.length && version !== versions.length + 1) throw new Error(`${d.name} version ${version} out of order`);
    versions[version - 1] = version === versions.length ? `${versions[version - 1]}\n${migration.sql(d)}` : migration.sql(d);
  }
  return versions;
}

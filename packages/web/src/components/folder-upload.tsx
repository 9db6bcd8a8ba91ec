// Upload a whole folder (thousands of images): per-file state, the total's progress and time left, failed files kept
// for a retry, and a resume after the tab was reloaded or closed that neither loses nor repeats a file.
import { useEffect, useRef, useState } from 'preact/hooks';
import { APIError } from '@kensa/sdk';
import type { UploadKind } from '../api/session.ts';
import { useApp } from '../app-context.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { etaSeconds, folderOf, formatDuration, planUpload, uploadKey } from '../lib/folder-upload.ts';
import type { UploadJournal } from '../lib/folder-upload.ts';
import { readableError } from './error-notice.tsx';

const IMAGE_NAME = /\.(png|jpe?g|tiff?|bmp|webp)$/i;
const BATCH = 8;
/** Requests in flight at once: enough to hide latency, few enough to leave the server room for others. */
const PARALLEL = 3;
/** Files listed one by one; the rest are counted. */
const LISTED = 300;

type FileState = 'queued' | 'uploading' | 'done' | 'skipped' | 'failed';
interface Entry {
  file: File;
  key: string;
  state: FileState;
  reason?: string;
  /** Another file of the folder has its name: never sent, so never retried. */
  clash?: boolean;
}

const journalKey = (clientId: string) => `kensa.folderUpload.${clientId}`;

function readJournal(clientId: string): UploadJournal | null {
  try {
    return JSON.parse(localStorage.getItem(journalKey(clientId)) ?? 'null') as UploadJournal | null;
  } catch {
    return null;
  }
}

export function FolderUpload(props: { defaultKind: UploadKind; onProgress: () => void; onDone: () => void }) {
  const { t } = useI18n();
  const app = useApp();
  const { sdk } = app.session;
  const [kind, setKind] = useState<UploadKind>(props.defaultKind);
  const [entries, setEntries] = useState<Entry[]>([]);
  const [journal, setJournal] = useState<UploadJournal | null>(() => readJournal(app.session.clientId));
  const [running, setRunning] = useState(false);
  const [started, setStarted] = useState(0);
  const [now, setNow] = useState(0);
  const [message, setMessage] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => setKind(props.defaultKind), [props.defaultKind]);
  // The time left is recomputed every second, not only when a batch ends.
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);

  const saveJournal = (next: UploadJournal | null) => {
    if (next) localStorage.setItem(journalKey(app.session.clientId), JSON.stringify(next));
    else localStorage.removeItem(journalKey(app.session.clientId));
    setJournal(next);
  };

  const line = journal?.target ?? app.target;
  const lineName = (id: number) => {
    const target = app.targets.find((entry) => entry.target_id === id);
    return target ? (target.default ? t('targetDefault') : target.name) : `#${id}`;
  };

  /** Every item id the line has on the server (a resume skips them). */
  const idsOnServer = async (target: number): Promise<Set<string>> => {
    const ids = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await sdk.getItemRows({ target, limit: 10_000, cursor });
      for (const row of page.rows) ids.add(row.item_id);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return ids;
  };

  const pick = async (list: FileList | null) => {
    if (!list || running) return;
    const files = [...list].filter((file) => IMAGE_NAME.test(file.name));
    if (files.length === 0) return;
    const folder = folderOf(files[0]);
    // The same folder after an interruption resumes; another folder starts anew.
    const resuming = journal !== null && journal.folder === folder && journal.total === files.length ? journal : null;
    setMessage(null);
    let existing = new Set<string>();
    try {
      if (resuming) existing = await idsOnServer(resuming.target);
    } catch (error) {
      app.noticeError(error);
    }
    const plan = planUpload(files, resuming, existing);
    const skipped = new Set(plan.skipped);
    const clashing = new Set(plan.clashing);
    setEntries(files.map((file) => ({
      file,
      key: uploadKey(file),
      state: skipped.has(file) ? 'skipped' : clashing.has(file) ? 'failed' : 'queued',
      reason: clashing.has(file) ? t('folderNameClash') : undefined,
      clash: clashing.has(file),
    })));
    const next: UploadJournal = resuming ?? { folder, target: app.target, kind, total: files.length, done: [], startedAt: new Date().toISOString() };
    if (resuming) setKind(resuming.kind);
    saveJournal({ ...next, done: [...new Set([...next.done, ...plan.skipped.map(uploadKey)])] });
  };

  /** Sends the queued (and, on a retry, the failed) files, journalling each confirmed batch. */
  const start = async (retry = false) => {
    if (!journal || running) return;
    const current = journal;
    const isGood = current.kind === 'good' ? true : current.kind === 'defect' ? false : undefined;
    const work = entries.filter((entry) => entry.state === 'queued' || (retry && entry.state === 'failed' && !entry.clash));
    const states = new Map(entries.map((entry) => [entry.key, entry]));
    const update = () => setEntries([...states.values()]);
    for (const entry of work) states.set(entry.key, { ...entry, state: 'queued', reason: undefined });
    update();
    setRunning(true);
    setStarted(Date.now());
    setNow(Date.now());
    const done = new Set(current.done);
    const batches: Entry[][] = [];
    for (let i = 0; i < work.length; i += BATCH) batches.push(work.slice(i, i + BATCH));

    const send = async (batch: Entry[]) => {
      for (const entry of batch) states.set(entry.key, { ...entry, state: 'uploading' });
      update();
      const finish = (entry: Entry, error?: unknown) => {
        if (error === undefined) {
          states.set(entry.key, { ...entry, state: 'done' });
          done.add(entry.key);
        } else {
          app.noticeError(error);
          const readable = readableError(error, t);
          states.set(entry.key, { ...entry, state: 'failed', reason: [readable.title, ...readable.details].join(' — ') });
        }
      };
      try {
        await sdk.upload(batch.map((entry) => entry.file), isGood, { target: current.target });
        for (const entry of batch) finish(entry);
      } catch (error) {
        // A refused batch names its bad files: the others go one by one, so that only those stay behind.
        if (error instanceof APIError && error.status >= 400 && error.status < 500 && batch.length > 1) {
          for (const entry of batch) {
            try {
              await sdk.upload([entry.file], isGood, { target: current.target });
              finish(entry);
            } catch (single) {
              finish(entry, single);
            }
          }
        } else for (const entry of batch) finish(entry, error);
      }
      saveJournal({ ...current, done: [...done] });
      update();
      props.onProgress();
    };

    let next = 0;
    await Promise.all(Array.from({ length: PARALLEL }, async () => {
      while (next < batches.length) await send(batches[next++]);
    }));
    setRunning(false);
    const failed = [...states.values()].filter((entry) => entry.state === 'failed' && !entry.clash).length;
    const uploaded = [...states.values()].filter((entry) => entry.state === 'done').length;
    setMessage(t('folderFinished', { uploaded, failed }));
    // Finished with nothing left to retry: nothing to resume.
    if (failed === 0) saveJournal(null);
    props.onDone();
  };

  const counts = { queued: 0, uploading: 0, done: 0, skipped: 0, failed: 0 };
  let totalBytes = 0;
  let sentBytes = 0;
  for (const entry of entries) {
    counts[entry.state]++;
    if (entry.state === 'skipped') continue;
    totalBytes += entry.file.size;
    if (entry.state === 'done' || entry.state === 'failed') sentBytes += entry.file.size;
  }
  const finished = counts.done + counts.skipped + counts.failed;
  const eta = running ? etaSeconds(sentBytes, totalBytes, now - started) : null;
  const stateLabel: Record<FileState, string> = {
    queued: t('fileQueued'), uploading: t('fileUploading'), done: t('fileDone'), skipped: t('fileSkipped'), failed: t('fileFailed'),
  };
  // Failed and moving files first: they are what a person looks for in a list of thousands.
  const order: Record<FileState, number> = { failed: 0, uploading: 1, queued: 2, done: 3, skipped: 4 };
  const listed = entries.length > LISTED ? [...entries].sort((a, b) => order[a.state] - order[b.state]).slice(0, LISTED) : entries;
  const interrupted = journal !== null && entries.length === 0;

  return (
    <section class="panel folder-upload" aria-labelledby="folder-title" data-testid="folder-upload">
      <h2 id="folder-title">{t('folderTitle')}</h2>
      <p class="small muted">{t('folderHelp', { line: lineName(line) })}</p>
      {interrupted && (
        <div class="notice" role="status" data-testid="folder-resume">
          <p>{t('folderInterrupted', { folder: journal.folder, done: journal.done.length, total: journal.total, line: lineName(journal.target) })}</p>
          <button type="button" class="button-quiet" onClick={() => saveJournal(null)}>{t('folderForget')}</button>
        </div>
      )}
      <div class="actions">
        <button type="button" disabled={running} onClick={() => input.current?.click()}>{interrupted ? t('folderPickAgain') : t('folderPick')}</button>
        <input
          ref={input}
          type="file"
          multiple
          class="visually-hidden"
          tabIndex={-1}
          data-testid="folder-input"
          {...{ webkitdirectory: true }}
          onChange={(e) => {
            void pick((e.currentTarget as HTMLInputElement).files);
            (e.currentTarget as HTMLInputElement).value = '';
          }}
        />
      </div>
      {entries.length > 0 && (
        <>
          {!running && journal && (
            <fieldset class="kind-choice">
              <legend>{t('uploadAs')}</legend>
              {(['good', 'defect', 'predict'] as const).map((k) => (
                <label key={k} class="radio">
                  <input type="radio" name="folder-kind" value={k} checked={kind === k} disabled={journal.done.length > 0}
                    onChange={() => { setKind(k); saveJournal({ ...journal, kind: k }); }} />
                  {k === 'good' ? t('uploadGood') : k === 'defect' ? t('uploadDefect') : t('uploadPredict')}
                </label>
              ))}
            </fieldset>
          )}
          <div class="progress-row">
            <progress max={entries.length} value={finished} aria-label={t('uploadProgress')} />
            <span data-testid="folder-progress">{t('folderCounts', { done: counts.done, skipped: counts.skipped, failed: counts.failed, total: entries.length })}</span>
          </div>
          {running && <p class="small muted" data-testid="folder-eta">{eta === null ? t('folderEtaUnknown') : t('folderEta', { time: formatDuration(eta) })}</p>}
          <ul class="file-list folder-files" aria-label={t('folderFiles')}>
            {listed.map((entry) => (
              <li key={entry.key} data-state={entry.state}>
                <span class="ellipsis" title={entry.file.webkitRelativePath || entry.file.name}>{entry.file.name}</span>
                <span class={`small file-state file-${entry.state}`}>{stateLabel[entry.state]}</span>
                {entry.reason && <span class="text-error small">{entry.reason}</span>}
              </li>
            ))}
            {entries.length > LISTED && <li class="muted small">{t('folderMore', { count: entries.length - LISTED })}</li>}
          </ul>
          <div class="actions">
            {counts.queued > 0 && !running && (
              <button type="button" class="button-primary" data-testid="folder-start" onClick={() => void start()}>
                {t('folderStart', { count: counts.queued })}
              </button>
            )}
            {counts.failed > 0 && !running && (
              <button type="button" data-testid="folder-retry" onClick={() => void start(true)}>{t('folderRetry', { count: counts.failed })}</button>
            )}
          </div>
        </>
      )}
      {message && <p class="text-success" role="status" data-testid="folder-done">{message}</p>}
    </section>
  );
}

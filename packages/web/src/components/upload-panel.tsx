import { useEffect, useRef, useState } from 'preact/hooks';
import { uploadFiles } from '../api/session.ts';
import type { UploadKind } from '../api/session.ts';
import { useApp } from '../app-context.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { readableError } from './error-notice.tsx';

const IMAGE_NAME = /\.(png|jpe?g|tiff?|bmp|webp)$/i;

/**
 * Drag-and-drop or pick many images, choose what they are, upload with a progress bar. Files that fail stay
 * listed with the server's reason so that nothing is lost and they can be retried.
 */
export function UploadPanel(props: { defaultKind: UploadKind; kinds?: UploadKind[]; onUploaded: (itemIds: string[]) => void }) {
  const { t } = useI18n();
  const app = useApp();
  const [kind, setKind] = useState<UploadKind>(props.defaultKind);
  const [files, setFiles] = useState<File[]>([]);
  const [failures, setFailures] = useState<Map<File, string>>(new Map());
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const [oneItem, setOneItem] = useState('');
  const input = useRef<HTMLInputElement>(null);
  // Follows the page's suggestion (e.g. the items tab switched to "predict"); queued files stay.
  useEffect(() => setKind(props.defaultKind), [props.defaultKind]);
  const kinds = props.kinds ?? ['good', 'defect', 'predict'];
  const kindLabel: Record<UploadKind, string> = { good: t('uploadGood'), defect: t('uploadDefect'), predict: t('uploadPredict') };

  const add = (list: FileList | null) => {
    if (!list) return;
    // The server checks content; this only drops what is plainly not an image (folders' .DS_Store and the like).
    const added = [...list].filter((file) => IMAGE_NAME.test(file.name) || file.type.startsWith('image/'));
    setFiles((current) => [...current, ...added.filter((file) => !current.some((c) => c.name === file.name && c.size === file.size))]);
    setMessage(null);
  };

  const start = async () => {
    if (files.length === 0 || progress) return;
    setMessage(null);
    const outcome = await uploadFiles(app.session, files, kind, (done, total) => setProgress({ done, total }), { itemId: oneItem.trim() || undefined, target: app.target });
    setProgress(null);
    const reasons = new Map<File, string>();
    for (const { file, error } of outcome.failed) {
      app.noticeError(error);
      const readable = readableError(error, t);
      reasons.set(file, [readable.title, ...readable.details].join(' — '));
    }
    setFailures(reasons);
    setFiles(outcome.failed.map((f) => f.file));
    setMessage(outcome.itemIds.length ? t('uploadDone', { count: outcome.itemIds.length }) : null);
    if (outcome.itemIds.length) props.onUploaded(outcome.itemIds);
  };

  return (
    <section class="panel upload-panel" aria-labelledby="upload-title">
      <h2 id="upload-title">{t('uploadTitle')}</h2>
      <div
        class={`drop-zone ${dragging ? 'drop-zone-active' : ''}`}
        data-testid="drop-zone"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          add(e.dataTransfer?.files ?? null);
        }}
      >
        <span>{t('uploadDrop')}</span>{' '}
        <button type="button" class="button-link" onClick={() => input.current?.click()}>
          {t('uploadPick')}
        </button>
        <input
          ref={input}
          type="file"
          multiple
          accept="image/png,image/jpeg,image/tiff,image/bmp,image/webp"
          class="visually-hidden"
          data-testid="file-input"
          tabIndex={-1}
          onChange={(e) => {
            add((e.currentTarget as HTMLInputElement).files);
            (e.currentTarget as HTMLInputElement).value = '';
          }}
        />
      </div>
      <fieldset class="kind-choice">
        <legend>{t('uploadAs')}</legend>
        {kinds.map((k) => (
          <label key={k} class="radio">
            <input type="radio" name="upload-kind" value={k} checked={kind === k} onChange={() => setKind(k)} />
            {kindLabel[k]}
          </label>
        ))}
      </fieldset>
      <details class="one-item">
        <summary>{t('oneItemTitle')}</summary>
        <label class="field">
          <span class="small muted">{t('oneItemHelp')}</span>
          <input value={oneItem} pattern="[A-Za-z0-9._\-]+" placeholder="box-0001" onInput={(e) => setOneItem(e.currentTarget.value)} />
        </label>
      </details>
      {files.length > 0 && (
        <div class="upload-queue">
          <p>{t('uploadQueued', { count: files.length })}</p>
          {failures.size > 0 && <p class="text-error">{t('uploadFailedKept')}</p>}
          <ul class="file-list">
            {files.slice(0, 50).map((file) => (
              <li key={`${file.name}:${file.size}`}>
                <span class="ellipsis">{file.name}</span>
                {failures.has(file) && <span class="text-error small">{failures.get(file)}</span>}
              </li>
            ))}
            {files.length > 50 && <li>…</li>}
          </ul>
        </div>
      )}
      {progress && (
        <div class="progress-row">
          <progress max={progress.total} value={progress.done} aria-label={t('uploadProgress')} />
          <span>{t('uploading', { done: progress.done, total: progress.total })}</span>
        </div>
      )}
      {message && <p class="text-success" role="status">{message}</p>}
      <div class="actions">
        <button type="button" class="button-primary" disabled={files.length === 0 || progress !== null} onClick={start}>
          {failures.size > 0 ? t('uploadRetry') : files.length > 0 ? t('uploadStart', { count: files.length }) : t('uploadButton')}
        </button>
        {files.length > 0 && !progress && (
          <button
            type="button"
            onClick={() => {
              setFiles([]);
              setFailures(new Map());
            }}
          >
            {t('uploadClear')}
          </button>
        )}
      </div>
    </section>
  );
}

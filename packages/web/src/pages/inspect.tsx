import { useEffect, useRef, useState } from 'preact/hooks';
import type { InspectResult } from '@kensa/sdk';
import { useApp } from '../app-context.tsx';
import { AnnotationEditor } from '../components/annotation-editor.tsx';
import { AuthImage } from '../components/auth-image.tsx';
import { formatScore } from '../components/charts.tsx';
import { ErrorNotice } from '../components/error-notice.tsx';
import { VerdictBadge } from '../components/verdict-badge.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { useLoad } from '../lib/use-load.ts';

interface Inspected {
  file: File;
  /** Object URL of the local file, shown under the detected boxes. */
  src: string;
  width: number;
  height: number;
  result: InspectResult;
}

const MAX_FILES = 20;

function imageSize(src: string): Promise<{ width: number; height: number }> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve({ width: image.naturalWidth, height: image.naturalHeight });
    image.onerror = () => reject(new Error('unreadable image'));
    image.src = src;
  });
}

/**
 * Line-side inspection: images in, verdicts out in the same answer (`POST /api/v1/inspect`), nothing stored
 * unless asked. The boxes are drawn over the local file, so nothing has to come back from the server but numbers.
 */
export function InspectPage() {
  const { t } = useI18n();
  const app = useApp();
  const { sdk } = app.session;
  const models = useLoad(() => sdk.getModels({ target: app.target }), [app.session, app.target]);
  const ready = (models.data ?? []).filter((m) => m.status === 'active');
  const active = ready.find((m) => m.active);
  const [modelId, setModelId] = useState('');
  const [store, setStore] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [inspected, setInspected] = useState<Inspected[]>([]);
  const [elapsed, setElapsed] = useState<number | null>(null);
  const input = useRef<HTMLInputElement>(null);

  // Object URLs live as long as their results are shown.
  useEffect(() => () => inspected.forEach((i) => URL.revokeObjectURL(i.src)), [inspected]);

  const inspect = async (list: FileList | null) => {
    const files = [...(list ?? [])].slice(0, MAX_FILES);
    if (files.length === 0) return;
    setBusy(true);
    setError(null);
    const started = performance.now();
    try {
      const answer = await sdk.inspect(files, { modelId: modelId || undefined, store, target: app.target });
      setElapsed(performance.now() - started);
      const shown = await Promise.all(
        answer.results.map(async (result, index) => {
          const file = files.find((f) => f.name === result.file_name) ?? files[index];
          const src = URL.createObjectURL(file);
          return { file, src, result, ...(await imageSize(src)) };
        }),
      );
      setInspected(shown);
    } catch (caught) {
      setError(caught);
      app.noticeError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page inspect-page">
      <div class="page-head">
        <h1>{t('inspectTitle')}</h1>
      </div>
      <p class="muted">{t('inspectIntro')}</p>
      <section class="panel">
        <div class="filter-bar">
          <label class="field field-inline">
            <span>{t('predictModel')}</span>
            <select value={modelId} onChange={(e) => setModelId(e.currentTarget.value)}>
              <option value="">{t('activeModelOption', { name: active?.name ?? '—' })}</option>
              {ready.map((m) => (
                <option key={String(m.model_id)} value={String(m.model_id)}>{m.name}</option>
              ))}
            </select>
          </label>
          <label class="checkbox">
            <input type="checkbox" checked={store} onChange={() => setStore(!store)} />
            {t('inspectStore')}
          </label>
        </div>
        <div
          class="drop-zone"
          onDragOver={(e) => e.preventDefault()}
          onDrop={(e) => {
            e.preventDefault();
            void inspect(e.dataTransfer?.files ?? null);
          }}
        >
          <span>{t('inspectDrop', { max: MAX_FILES })}</span>{' '}
          <button type="button" class="button-link" disabled={busy} onClick={() => input.current?.click()}>
            {t('uploadPick')}
          </button>
          <input
            ref={input}
            type="file"
            multiple
            accept="image/png,image/jpeg,image/tiff,image/bmp,image/webp"
            class="visually-hidden"
            tabIndex={-1}
            data-testid="inspect-file"
            onChange={(e) => {
              void inspect(e.currentTarget.files);
              e.currentTarget.value = '';
            }}
          />
        </div>
        {busy && <p class="muted" role="status">{t('running')}</p>}
        <ErrorNotice error={error} onDismiss={() => setError(null)} />
        {elapsed !== null && !busy && <p class="muted small">{t('inspectTime', { count: inspected.length, ms: Math.round(elapsed) })}</p>}
      </section>
      <ul class="inspect-results" data-testid="inspect-results">
        {inspected.map(({ file, src, width, height, result }) => (
          <li key={src} class="panel inspect-result" data-verdict={result.label}>
            <div class="model-head">
              <h2 class="ellipsis" title={file.name}>{file.name}</h2>
              <VerdictBadge verdict={result.label === 'NG' ? 'NG' : 'OK'} />
              <span class="small muted">{t('score')} {formatScore(result.score)}</span>
              <span class="small muted">{t('detectedObjects', { count: result.detected_objects })}</span>
            </div>
            <AnnotationEditor
              width={width}
              height={height}
              imageSrc={<img src={src} alt={file.name} class="stage-image" draggable={false} />}
              heatmap={result.heatmap_url ? <AuthImage url={result.heatmap_url} alt={t('heatmap')} class="stage-image" /> : null}
              heatmapOpacity={0.45}
              detected={result.boxes}
              showDetected
              boxes={[]}
              showBoxes={false}
              onChange={() => {}}
            />
          </li>
        ))}
      </ul>
    </div>
  );
}

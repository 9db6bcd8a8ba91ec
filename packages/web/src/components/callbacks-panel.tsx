import { useState } from 'preact/hooks';
import { useApp } from '../app-context.tsx';
import { formatDate, useI18n } from '../i18n/i18n.tsx';
import { useAction, useLoad } from '../lib/use-load.ts';
import { ErrorNotice } from './error-notice.tsx';

/** URLs that receive each finished prediction, signed with a secret the server shows once. */
export function CallbacksPanel() {
  const { t, language } = useI18n();
  const app = useApp();
  const callbacks = useLoad(() => app.session.sdk.getCallbacks(), [app.session]);
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const { busy, error, run, dismiss } = useAction();

  const act = (action: () => Promise<void>) => run(async () => {
    await action();
    await callbacks.reload(true);
  });

  return (
    <section class="panel narrow" aria-labelledby="callbacks-title">
      <h2 id="callbacks-title">{t('callbacksTitle')}</h2>
      <p class="muted small">{t('callbacksIntro')}</p>
      <ErrorNotice error={callbacks.error ?? error} onDismiss={error ? dismiss : undefined} />
      {secret && (
        <div class="notice notice-success" role="status">
          <div class="notice-body">
            {t('callbackSecret')} <code class="break-anywhere" data-testid="callback-secret">{secret}</code>
          </div>
        </div>
      )}
      <ul class="callback-list" data-testid="callback-list">
        {(callbacks.data ?? []).map((c) => (
          <li key={String(c.callback_id)}>
            <span class="ellipsis grow" title={c.url}>{c.url}</span>
            <span class="small muted">{formatDate(c.created_at, language)}</span>
            <button type="button" class="button-quiet button-danger-text" disabled={busy} onClick={() => act(async () => { await app.session.sdk.deleteCallback(c.callback_id); setSecret(null); })}>
              {t('remove')}
            </button>
          </li>
        ))}
      </ul>
      <form
        class="filter-bar"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            const created = await app.session.sdk.registerCallback(url.trim());
            setSecret(created.secret ?? null);
            setUrl('');
          });
        }}
      >
        <input type="url" required class="grow" placeholder="https://line-7.example/kensa" aria-label={t('callbackUrl')} value={url} onInput={(e) => setUrl(e.currentTarget.value)} data-testid="callback-url" />
        <button type="submit" class="button-primary" disabled={busy || !url.trim()}>{t('addCallback')}</button>
      </form>
    </section>
  );
}

import { useRef, useState } from 'preact/hooks';
import { useApp } from '../app-context.tsx';
import { CallbacksPanel } from '../components/callbacks-panel.tsx';
import { ErrorNotice, SuccessNotice } from '../components/error-notice.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import type { MessageKey } from '../i18n/messages.ts';

export function LicensePage() {
  const { t } = useI18n();
  const app = useApp();
  const [file, setFile] = useState<File | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [success, setSuccess] = useState<string | null>(null);
  const stateLabel: Record<typeof app.license, MessageKey> = { unknown: 'licenseUnknown', active: 'licenseActive', missing: 'licenseMissing', expired: 'licenseExpired' };

  const activate = async (event: Event) => {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    setSuccess(null);
    try {
      await app.session.sdk.activateLicense(file);
      app.setLicense('active');
      setSuccess(t('licenseActivated'));
    } catch (caught) {
      setError(caught);
      app.noticeError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page license-page">
      <div class="page-head">
        <h1>{t('licenseTitle')}</h1>
        <span class={`badge license-badge license-${app.license}`} data-testid="license-state">{t(stateLabel[app.license])}</span>
      </div>
      <form class="panel narrow" onSubmit={activate}>
        <p>{t('licenseIntro')}</p>
        <ErrorNotice error={error} onDismiss={() => setError(null)} />
        <SuccessNotice message={success} />
        <div class="field">
          <span>{t('licenseFile')}</span>
          {/* The browser's own file button speaks the browser's language; this one speaks the page's. */}
          <div class="file-choice">
            <button type="button" onClick={() => input.current?.click()}>{t('chooseFile')}</button>
            <span class="ellipsis muted">{file?.name ?? t('noFileChosen')}</span>
          </div>
          <input
            ref={input}
            type="file"
            class="visually-hidden"
            tabIndex={-1}
            aria-label={t('licenseFile')}
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
            data-testid="license-file"
          />
        </div>
        <button type="submit" class="button-primary" disabled={!file || busy}>
          {busy ? t('activating') : t('activate')}
        </button>
      </form>
      <CallbacksPanel />
    </div>
  );
}

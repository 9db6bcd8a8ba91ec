import { useEffect, useState } from 'preact/hooks';
import { VisualInspectionSDK } from '@kensa/sdk';
import { Session, defaultApiUrl } from '../api/session.ts';
import { ErrorNotice } from '../components/error-notice.tsx';
import { LanguageSwitch } from '../components/language-switch.tsx';
import { useI18n } from '../i18n/i18n.tsx';

export function SignInPage(props: { onSignedIn: (session: Session) => void; notice?: string | null }) {
  const { t, language } = useI18n();
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState<string | null>(null);

  useEffect(() => {
    new VisualInspectionSDK({ apiUrl: defaultApiUrl() }).getVersionNumber().then(setVersion, () => setVersion(null));
  }, []);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      props.onSignedIn(await Session.signIn(clientId.trim(), clientSecret, language));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in" id="content">
      <form class="panel sign-in-card" onSubmit={submit}>
        <div class="sign-in-head">
          <div class="brand">
            <span class="brand-mark" aria-hidden="true">検</span>
            <span>{t('appName')}</span>
          </div>
          <LanguageSwitch />
        </div>
        <h1>{t('signInTitle')}</h1>
        <p class="muted">{t('signInIntro')}</p>
        {props.notice && <p class="notice notice-info">{props.notice}</p>}
        <ErrorNotice error={error} />
        <label class="field">
          <span>{t('clientId')}</span>
          <input name="client_id" autoComplete="username" required value={clientId} onInput={(e) => setClientId(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>{t('clientSecret')}</span>
          <input
            name="client_secret"
            type="password"
            autoComplete="current-password"
            required
            value={clientSecret}
            onInput={(e) => setClientSecret(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="button-primary button-wide" disabled={busy}>
          {busy ? t('signingIn') : t('signIn')}
        </button>
        {version && <p class="muted small center">{t('serverVersion', { version })}</p>}
      </form>
    </main>
  );
}

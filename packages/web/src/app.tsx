import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { Session } from './api/session.ts';
import { AppContext, isLicenceError, isSessionError, storedTarget, targetStorageKey, useRoute } from './app-context.tsx';
import type { AppState, LicenceState } from './app-context.tsx';
import { LanguageSwitch } from './components/language-switch.tsx';
import { TargetSwitch } from './components/target-switch.tsx';
import { I18nProvider, initialLanguage, translator, useI18n } from './i18n/i18n.tsx';
import type { Language } from './i18n/i18n.tsx';
import type { MessageKey } from './i18n/messages.ts';
import { DashboardPage } from './pages/dashboard.tsx';
import { ItemDetailPage } from './pages/item-detail.tsx';
import { InspectPage } from './pages/inspect.tsx';
import { ItemsPage } from './pages/items.tsx';
import { LicencePage } from './pages/licence.tsx';
import { ModelsPage } from './pages/models.tsx';
import { PredictPage } from './pages/predict.tsx';
import { ReviewPage } from './pages/review.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { TrainPage } from './pages/train.tsx';

export function App() {
  const [language, setLanguageState] = useState<Language>(initialLanguage);
  const [session, setSession] = useState<Session | null>(() => Session.restore(language));
  const [signInNotice, setSignInNotice] = useState<string | null>(null);

  const setLanguage = useCallback(
    (next: Language) => {
      localStorage.setItem('kensa.language', next);
      // Before the re-render: pages reload server texts in their effects, which run before this component's.
      session?.setLanguage(next);
      setLanguageState(next);
    },
    [session],
  );

  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  const signOut = useCallback((notice: string | null = null) => {
    Session.forget();
    setSignInNotice(notice);
    setSession(null);
  }, []);

  return (
    <I18nProvider language={language} setLanguage={setLanguage}>
      {session ? (
        <SignedIn session={session} onSignOut={signOut} />
      ) : (
        <SignInPage
          notice={signInNotice}
          onSignedIn={(s) => {
            setSignInNotice(null);
            setSession(s);
          }}
        />
      )}
    </I18nProvider>
  );
}

const NAV: { page: string; label: MessageKey }[] = [
  { page: 'items', label: 'navItems' },
  { page: 'train', label: 'navTrain' },
  { page: 'models', label: 'navModels' },
  { page: 'predict', label: 'navPredict' },
  { page: 'inspect', label: 'navInspect' },
  { page: 'review', label: 'navReview' },
  { page: 'dashboard', label: 'navDashboard' },
];

function SignedIn(props: { session: Session; onSignOut: (notice?: string | null) => void }) {
  const { t, language } = useI18n();
  const route = useRoute();
  const [licence, setLicence] = useState<LicenceState>(() => (sessionStorage.getItem('kensa.licence') as LicenceState | null) ?? 'unknown');
  const [target, setTarget] = useState<number | undefined>(() => storedTarget(props.session.clientId));
  const [targetsVersion, setTargetsVersion] = useState(0);

  const app = useMemo<AppState>(
    () => ({
      session: props.session,
      licence,
      setLicence: (state) => {
        sessionStorage.setItem('kensa.licence', state);
        setLicence(state);
      },
      noticeError: (error) => {
        if (isSessionError(error)) props.onSignOut(translator(language)('errorSession'));
        else if (isLicenceError(error)) {
          sessionStorage.setItem('kensa.licence', 'missing');
          setLicence('missing');
        }
      },
      target,
      chooseTarget: (targetId) => {
        const key = targetStorageKey(props.session.clientId);
        if (targetId === undefined) localStorage.removeItem(key);
        else localStorage.setItem(key, String(targetId));
        setTarget(targetId);
        setTargetsVersion((version) => version + 1);
      },
      targetsVersion,
    }),
    [props.session, licence, language, props.onSignOut, target, targetsVersion],
  );

  // The badge shows the server's state from the start, not only after a train or serve was refused.
  const { setLicence: storeLicence, noticeError } = app;
  useEffect(() => {
    let current = true;
    props.session.sdk.getLicense().then((state) => { if (current) storeLicence(state.status); }, noticeError);
    return () => { current = false; };
  }, [props.session]);

  const page = (() => {
    switch (route.page) {
      case 'item':
        return <ItemDetailPage itemId={route.rest} archived={route.query.get('archived') === '1'} />;
      case 'train':
        return <TrainPage />;
      case 'models':
        return <ModelsPage highlight={route.query.get('model')} />;
      case 'predict':
        return <PredictPage />;
      case 'inspect':
        return <InspectPage />;
      case 'review':
        return <ReviewPage />;
      case 'dashboard':
        return <DashboardPage />;
      case 'licence':
        return <LicencePage />;
      default:
        return <ItemsPage tab={route.query.get('tab')} />;
    }
  })();
  const activeNav = route.page === 'item' ? 'items' : route.page;
  const licenceLabel: Record<LicenceState, MessageKey> = { unknown: 'licenceUnknown', active: 'licenceActive', missing: 'licenceMissing', expired: 'licenceExpired' };

  return (
    <AppContext.Provider value={app}>
      <a class="skip-link" href="#content" onClick={(e) => { e.preventDefault(); document.getElementById('content')?.focus(); }}>
        {t('skipToContent')}
      </a>
      <header class="topbar">
        <a class="brand" href="#/items">
          <span class="brand-mark" aria-hidden="true">検</span>
          <span>{t('appName')}</span>
        </a>
        <nav class="mainnav" aria-label="Main">
          {NAV.map((entry) => (
            <a key={entry.page} href={`#/${entry.page}`} aria-current={activeNav === entry.page ? 'page' : undefined} data-nav={entry.page}>
              {t(entry.label)}
            </a>
          ))}
        </nav>
        <div class="topbar-end">
          <TargetSwitch />
          <a href="#/licence" class={`licence-chip licence-${licence}`} data-nav="licence" aria-current={activeNav === 'licence' ? 'page' : undefined}>
            {t('navLicence')}: {t(licenceLabel[licence])}
          </a>
          <LanguageSwitch />
          <span class="client-id ellipsis" title={props.session.clientId}>{props.session.clientId}</span>
          <button type="button" class="button-quiet" title={props.session.clientId} onClick={() => props.onSignOut()}>
            {t('signOut')}
          </button>
        </div>
      </header>
      {/* Keyed by product line: a switch starts every page afresh on the new target's data. */}
      <main id="content" tabIndex={-1} class="content" key={target ?? 'default'}>
        {page}
      </main>
    </AppContext.Provider>
  );
}

import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Session } from './api/session.ts';
import type { Target } from '@kensa/sdk';
import { AppContext, isLicenseError, isSessionError, lineOf, parseRoute as parseRouteOf, navigate, replaceRoute, storedTarget, targetStorageKey, useRoute, withLine } from './app-context.tsx';
import type { AppState, LicenseState } from './app-context.tsx';
import { ErrorNotice } from './components/error-notice.tsx';
import { LanguageSwitch } from './components/language-switch.tsx';
import { TargetSwitch } from './components/target-switch.tsx';
import { I18nProvider, initialLanguage, translator, useI18n } from './i18n/i18n.tsx';
import type { Language } from './i18n/i18n.tsx';
import type { MessageKey } from './i18n/messages.ts';
import { AuditPage } from './pages/audit.tsx';
import { DashboardPage } from './pages/dashboard.tsx';
import { EvaluatePage } from './pages/evaluate.tsx';
import { ItemDetailPage } from './pages/item-detail.tsx';
import { InspectPage } from './pages/inspect.tsx';
import { ItemsPage } from './pages/items.tsx';
import { LicensePage } from './pages/license.tsx';
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
  { page: 'evaluate', label: 'navEvaluate' },
  { page: 'predict', label: 'navPredict' },
  { page: 'inspect', label: 'navInspect' },
  { page: 'review', label: 'navReview' },
  { page: 'dashboard', label: 'navDashboard' },
  { page: 'audit', label: 'navAudit' },
];

function SignedIn(props: { session: Session; onSignOut: (notice?: string | null) => void }) {
  const { t, language } = useI18n();
  const route = useRoute();
  const [license, setLicense] = useState<LicenseState>(() => (sessionStorage.getItem('kensa.license') as LicenseState | null) ?? 'unknown');
  const [targets, setTargets] = useState<Target[] | null>(null);
  const [targetsError, setTargetsError] = useState<unknown>(null);
  // The line this client chose last: on the server (any browser), else in this browser; `null` until asked.
  const [remembered, setRemembered] = useState<number | undefined | null>(null);
  const stored = useRef<number | undefined>(undefined);

  useEffect(() => {
    let current = true;
    const { sdk } = props.session;
    Promise.all([
      sdk.getTargets(),
      // A server without preferences (older) leaves this browser's memory.
      remembered === null ? sdk.getPreferences().then((p) => p.target_id ?? undefined, () => undefined) : Promise.resolve(remembered),
    ]).then(([list, preferred]) => {
      if (!current) return;
      setTargets(list);
      setTargetsError(null);
      if (remembered === null) {
        const chosen = preferred ?? storedTarget(props.session.clientId);
        stored.current = preferred;
        setRemembered(chosen);
      }
    }, (error: unknown) => {
      if (!current) return;
      setTargetsError(error);
      app.noticeError(error);
    });
    return () => { current = false; };
  }, [props.session, language]);

  const reloadTargets = useCallback(async () => {
    try {
      setTargets(await props.session.sdk.getTargets());
    } catch (error) {
      app.noticeError(error);
    }
  }, [props.session]);

  // Where one is: the URL's line when it is one of the client's, else the remembered one, else the default line.
  const urlLine = lineOf(route.query.get('line'));
  const known = (id: number | undefined | null): id is number => id != null && !!targets?.some((t) => t.target_id === id);
  // A line the list does not know may be new (made by the SDK, another browser): the list is read again once first.
  const [rechecked, setRechecked] = useState<number | null>(null);
  const recheck = targets !== null && urlLine !== undefined && !known(urlLine) && rechecked !== urlLine;
  const target = targets === null || remembered === null || recheck ? undefined
    : known(urlLine) ? urlLine : known(remembered) ? remembered : targets.find((t) => t.default)?.target_id;
  useEffect(() => {
    if (recheck) void reloadTargets().finally(() => setRechecked(urlLine));
  }, [recheck, urlLine]);

  // The URL always names the line (links that left it out, a removed line), so that it can be copied and shared.
  useEffect(() => {
    if (target !== undefined && urlLine !== target) replaceRoute(withLine(location.hash, target));
  }, [target, urlLine]);

  // The line one is on is remembered for this client: in this browser and on the server (a new browser starts there).
  useEffect(() => {
    if (target === undefined) return;
    setRemembered(target); // a link without a line stays on this one
    localStorage.setItem(targetStorageKey(props.session.clientId), String(target));
    if (stored.current === target) return;
    stored.current = target;
    props.session.sdk.setPreferences({ target_id: target }).catch(() => { /* an older server: this browser remembers */ });
  }, [target, props.session]);

  const app = useMemo<AppState>(
    () => ({
      session: props.session,
      license,
      setLicense: (state) => {
        sessionStorage.setItem('kensa.license', state);
        setLicense(state);
      },
      noticeError: (error) => {
        if (isSessionError(error)) props.onSignOut(translator(language)('errorSession'));
        else if (isLicenseError(error)) {
          sessionStorage.setItem('kensa.license', 'missing');
          setLicense('missing');
        }
      },
      target: target ?? 0,
      targets: targets ?? [],
      chooseTarget: async (targetId, options = {}) => {
        // A line made a moment ago (here, or by the sample project) is read first, so that the URL's line is known.
        if (!targets?.some((t) => t.target_id === targetId)) await reloadTargets();
        if (options.stay) return replaceRoute(withLine(location.hash, targetId));
        // An item belongs to one line: switching from its page goes to the new line's items.
        navigate(withLine(parseRouteOf(location.hash).page === 'item' ? '#/items' : location.hash, targetId));
      },
      reloadTargets,
      href: (hash) => (target === undefined ? hash : withLine(hash, target)),
    }),
    [props.session, license, language, props.onSignOut, target, targets],
  );

  // The badge shows the server's state from the start, not only after a train or serve was refused.
  const { setLicense: storeLicense, noticeError } = app;
  useEffect(() => {
    let current = true;
    props.session.sdk.getLicense().then((state) => { if (current) storeLicense(state.status); }, noticeError);
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
      case 'evaluate':
        return <EvaluatePage modelId={route.query.get('model')} compareId={route.query.get('compare')} />;
      case 'audit':
        return <AuditPage />;
      case 'dashboard':
        return <DashboardPage />;
      case 'license':
      case 'licence': // the page's old spelling, kept for bookmarks
        return <LicensePage />;
      default:
        return <ItemsPage tab={route.query.get('tab')} />;
    }
  })();
  const activeNav = route.page === 'item' ? 'items' : route.page === 'licence' ? 'license' : route.page;
  const licenseLabel: Record<LicenseState, MessageKey> = { unknown: 'licenseUnknown', active: 'licenseActive', missing: 'licenseMissing', expired: 'licenseExpired' };

  return (
    <AppContext.Provider value={app}>
      <a class="skip-link" href="#content" onClick={(e) => { e.preventDefault(); document.getElementById('content')?.focus(); }}>
        {t('skipToContent')}
      </a>
      <header class="topbar">
        <a class="brand" href={app.href('#/items')}>
          <span class="brand-mark" aria-hidden="true">検</span>
          <span>{t('appName')}</span>
        </a>
        <nav class="mainnav" aria-label="Main">
          {NAV.map((entry) => (
            <a key={entry.page} href={app.href(`#/${entry.page}`)} aria-current={activeNav === entry.page ? 'page' : undefined} data-nav={entry.page}>
              {t(entry.label)}
            </a>
          ))}
        </nav>
        <div class="topbar-end">
          <TargetSwitch />
          <a href={app.href('#/license')} class={`license-chip license-${license}`} data-nav="license" aria-current={activeNav === 'license' ? 'page' : undefined}>
            {t('navLicense')}: {t(licenseLabel[license])}
          </a>
          <LanguageSwitch />
          <span class="client-id ellipsis" title={props.session.clientId}>{props.session.clientId}</span>
          <button type="button" class="button-quiet" title={props.session.clientId} onClick={() => props.onSignOut()}>
            {t('signOut')}
          </button>
        </div>
      </header>
      {/* Keyed by product line: a switch starts every page afresh on the new target's data. */}
      <main id="content" tabIndex={-1} class="content" key={target ?? 'none'}>
        {target !== undefined ? page : targetsError ? (
          <ErrorNotice error={targetsError} />
        ) : (
          <p class="muted">{t('loading')}</p>
        )}
      </main>
    </AppContext.Provider>
  );
}

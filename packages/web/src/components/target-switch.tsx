// The product line (inspection target) switcher in the header: lists the client's targets, switches between
// them, and creates a new one. The choice lives in the shell (`useApp().target`) and in localStorage per user.
import { useState } from 'preact/hooks';
import type { Target } from '@kensa/sdk';
import { useApp } from '../app-context.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { useLoad } from '../lib/use-load.ts';
import { ErrorNotice } from './error-notice.tsx';

const NEW_TARGET = 'new';

export function TargetSwitch() {
  const { t, language } = useI18n();
  const app = useApp();
  const targets = useLoad(async () => {
    const list = await app.session.sdk.getTargets();
    // Judged on the fresh list (a just-created target is missing from the one on screen).
    if (app.target !== undefined && !list.some((target) => target.target_id === app.target)) app.chooseTarget(undefined);
    return list;
  }, [app.session, app.targetsVersion, language]);
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const list = targets.data ?? [];
  // A remembered target that was removed (or belongs to another server) falls back to the default one.
  const chosen: Target | undefined = list.find((target) => target.target_id === app.target) ?? list.find((target) => target.default);
  const choose = (value: string) => {
    if (value === NEW_TARGET) {
      setCreating(true);
      return;
    }
    const target = list.find((entry) => String(entry.target_id) === value);
    app.chooseTarget(!target || target.default ? undefined : target.target_id);
  };
  const create = async (event: Event) => {
    event.preventDefault();
    if (!name.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const target = await app.session.sdk.createTarget(name.trim());
      setCreating(false);
      setName('');
      app.chooseTarget(target.target_id);
    } catch (caught) {
      setError(caught);
      app.noticeError(caught);
    } finally {
      setBusy(false);
    }
  };

  if (creating) {
    return (
      <form class="target-create" onSubmit={create} data-testid="target-create">
        <label class="field-inline">
          <span class="visually-hidden">{t('targetNewName')}</span>
          <input value={name} placeholder={t('targetNewName')} maxLength={100} required autoFocus data-testid="target-name"
            onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={busy || !name.trim()}>{t('targetCreate')}</button>
        <button type="button" class="button-quiet" onClick={() => { setCreating(false); setError(null); }}>{t('cancel')}</button>
        <ErrorNotice error={error} />
      </form>
    );
  }
  return (
    <label class="target-switch" title={t('targetLabel')}>
      <span class="target-switch-label">{t('targetLabel')}</span>
      <select value={chosen ? String(chosen.target_id) : ''} data-testid="target" onChange={(e) => choose(e.currentTarget.value)} disabled={!targets.data}>
        {!targets.data && <option value="">{t('loading')}</option>}
        {list.map((target) => (
          <option key={target.target_id} value={String(target.target_id)}>
            {target.default ? t('targetDefault') : target.name} ({target.item_count})
          </option>
        ))}
        <option value={NEW_TARGET}>{t('targetNew')}</option>
      </select>
    </label>
  );
}

// The product line (inspection target) switcher in the header: lists the client's targets, switches between
// them, and creates a new one. The choice lives in the URL (`line`), which the shell remembers for the client.
import { useState } from 'preact/hooks';
import type { Target } from '@kensa/sdk';
import { useApp } from '../app-context.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { ErrorNotice } from './error-notice.tsx';

const NEW_TARGET = 'new';

export function TargetSwitch() {
  const { t } = useI18n();
  const app = useApp();
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const list = app.targets;
  const chosen: Target | undefined = list.find((target) => target.target_id === app.target);
  const choose = (value: string) => {
    if (value === NEW_TARGET) {
      setCreating(true);
      return;
    }
    const target = list.find((entry) => String(entry.target_id) === value);
    if (target) void app.chooseTarget(target.target_id);
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
      await app.chooseTarget(target.target_id);
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
      <select value={chosen ? String(chosen.target_id) : ''} data-testid="target" onChange={(e) => choose(e.currentTarget.value)} disabled={list.length === 0}>
        {list.length === 0 && <option value="">{t('loading')}</option>}
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

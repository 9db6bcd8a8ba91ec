import { useI18n } from '../i18n/i18n.tsx';
import type { Language } from '../i18n/i18n.tsx';

export function LanguageSwitch() {
  const { t, language, setLanguage } = useI18n();
  return (
    <label class="language-switch">
      <span class="visually-hidden">{t('language')}</span>
      <select value={language} data-testid="language" onChange={(e) => setLanguage(e.currentTarget.value as Language)}>
        <option value="en">English</option>
        <option value="ja">日本語</option>
      </select>
    </label>
  );
}

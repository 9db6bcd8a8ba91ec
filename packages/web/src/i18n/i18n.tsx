import { createContext } from 'preact';
import type { ComponentChildren } from 'preact';
import { useContext, useMemo } from 'preact/hooks';
import { en, ja } from './messages.ts';
import type { MessageKey } from './messages.ts';

export type Language = 'en' | 'ja';
export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

const catalogues: Record<Language, Record<MessageKey, string>> = { en, ja };

export function translator(language: Language): Translate {
  const catalogue = catalogues[language];
  return (key, values) => {
    const template = catalogue[key] ?? en[key];
    if (!values) return template;
    return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
  };
}

/** The language a first-time visitor most likely reads: Japanese when the browser prefers it. */
export function initialLanguage(): Language {
  const saved = localStorage.getItem('kensa.language');
  if (saved === 'en' || saved === 'ja') return saved;
  return navigator.language.toLowerCase().startsWith('ja') ? 'ja' : 'en';
}

interface I18n {
  language: Language;
  t: Translate;
  setLanguage: (language: Language) => void;
}

const I18nContext = createContext<I18n>({ language: 'en', t: translator('en'), setLanguage: () => {} });

export function I18nProvider(props: { language: Language; setLanguage: (l: Language) => void; children: ComponentChildren }) {
  const value = useMemo(
    () => ({ language: props.language, t: translator(props.language), setLanguage: props.setLanguage }),
    [props.language, props.setLanguage],
  );
  return <I18nContext.Provider value={value}>{props.children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  return useContext(I18nContext);
}

/** Numbers and dates in the reader's convention. */
export function formatDate(value: string | null | undefined, language: Language): string {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  // One formatter per language: making one per call costs more than the rest of a grid cell's drawing.
  let format = dateFormats.get(language);
  if (!format) {
    format = new Intl.DateTimeFormat(language === 'ja' ? 'ja-JP' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' });
    dateFormats.set(language, format);
  }
  return format.format(date);
}

const dateFormats = new Map<Language, Intl.DateTimeFormat>();

/** A rate the API gives as 0–1 (precision, recall), as a percentage. */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return formatPercentage(value * 100);
}

/** A value the API already gives as a percentage, 0–100 (accuracy, detection_accuracy). */
export function formatPercentage(percent: number | null | undefined): string {
  if (percent === null || percent === undefined || Number.isNaN(percent)) return '—';
  return `${percent.toFixed(1)} %`;
}

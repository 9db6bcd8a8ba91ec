import { en, type MessageKey } from './en.ts';
import { ja } from './ja.ts';

export type Language = 'en' | 'ja';
export type { MessageKey };

/** A message not yet translated: a key and its values, rendered in the reader's language at the end. */
export interface Message {
  key: MessageKey;
  /** Values of the `{name}` marks; a value may itself be a message (e.g. a reason inside a detail). */
  params?: MessageParams;
}
export type MessageParams = { [name: string]: string | number | Message };

export function message(key: MessageKey, params?: MessageParams): Message {
  return { key, params };
}

const CATALOGUES: Record<Language, Record<MessageKey, string>> = { en, ja };

/** `Accept-Language: ja…` (with any quality) gives Japanese when it ranks above English; anything else English. */
export function languageOf(acceptLanguage: string | undefined): Language {
  if (!acceptLanguage) return 'en';
  const ranked = acceptLanguage.split(',').map((part) => {
    const [tag, ...attributes] = part.trim().toLowerCase().split(';');
    const q = attributes.map((a) => a.trim()).find((a) => a.startsWith('q='));
    return { tag, quality: q ? Number(q.slice(2)) : 1 };
  }).filter((l) => l.quality > 0).sort((a, b) => b.quality - a.quality);
  for (const { tag } of ranked) {
    if (tag === 'ja' || tag.startsWith('ja-')) return 'ja';
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return 'en';
}

export function translate(language: Language, key: MessageKey, params: MessageParams = {}): string {
  return CATALOGUES[language][key].replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === 'object' ? render(language, value) : String(value);
  });
}

export function render(language: Language, message: Message): string {
  return translate(language, message.key, message.params);
}

/** How targets leave on the wire: pure functions from rows to answers. */
import { translate, type Language } from '../i18n/index.ts';
import { urlWithoutCredentials } from '../outbound/url-credentials.ts';
import type { TargetRow } from '../store/targets.repository.ts';
import type { TargetOverview } from './targets.service.ts';

/** The name shown for a target: the default one has none of its own and shows the catalogue's title, in the reader's language. */
export function targetName(target: TargetRow, language: Language): string {
  return target.name ?? translate(language, 'summaryTitle');
}

export function presentTarget({ target, counts, mqtt }: TargetOverview, language: Language) {
  return {
    target_id: target.target_id,
    name: targetName(target, language),
    default: target.is_default === 1,
    item_count: counts.items,
    model_count: counts.models,
    // The broker's address without credentials it may carry.
    mqtt: mqtt === null ? null : { url: urlWithoutCredentials(mqtt.url), topic: mqtt.topic },
    created_at: target.created_at,
  };
}

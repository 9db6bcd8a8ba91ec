import type { Item } from '@kensa/sdk';
import { itemHref, navigate, useApp } from '../app-context.tsx';
import { formatDate, useI18n } from '../i18n/i18n.tsx';
import { verdictOf } from '../lib/items.ts';
import { AuthImage } from './auth-image.tsx';
import { VerdictBadge } from './verdict-badge.tsx';

/** An item as a card with its thumbnail and verdict; a link to its page in its own product line. */
export function ItemCard(props: { item: Item; archived?: boolean; selectable?: { checked: boolean; onToggle: () => void } }) {
  const { t, language } = useI18n();
  const app = useApp();
  const { item } = props;
  const verdict = verdictOf(item);
  const href = itemHref(item.item_id, item.target_id ?? app.target, props.archived);
  return (
    <li class={`item-card verdict-${verdict.toLowerCase()}`} data-item-id={item.item_id} data-verdict={verdict}>
      {props.selectable && (
        <label class="item-select">
          <input type="checkbox" checked={props.selectable.checked} onChange={props.selectable.onToggle} aria-label={item.item_id} />
        </label>
      )}
      <a href={href} class="item-link" onClick={(e) => {
        e.preventDefault();
        navigate(href);
      }}>
        <AuthImage url={item.thumbnail_image ?? item.default_image} alt={item.item_id} class="thumb" />
        <span class="item-id ellipsis" title={item.item_id}>{item.item_id}</span>
      </a>
      <div class="item-meta">
        <VerdictBadge verdict={verdict} />
        {item.confirmed_assessment && <span class="badge badge-confirmed">{t('confirmed')}</span>}
        {!!item.detected_objects && <span class="small muted">{t('detectedObjects', { count: item.detected_objects })}</span>}
      </div>
      <div class="small muted">{formatDate(item.finished_date ?? item.created_at, language)}</div>
    </li>
  );
}

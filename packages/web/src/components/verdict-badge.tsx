import type { Verdict } from '../lib/items.ts';
import { useI18n } from '../i18n/i18n.tsx';
import type { MessageKey } from '../i18n/messages.ts';

const LABELS: Record<Verdict, MessageKey> = {
  OK: 'verdictOK',
  NG: 'verdictNG',
  pending: 'verdictPending',
  good: 'labelGood',
  defect: 'labelDefect',
  unlabelled: 'verdictUnlabelled',
};

export function VerdictBadge(props: { verdict: Verdict }) {
  const { t } = useI18n();
  return <span class={`badge badge-${props.verdict.toLowerCase()}`} data-verdict={props.verdict}>{t(LABELS[props.verdict])}</span>;
}

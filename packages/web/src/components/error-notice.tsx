import { APIError } from '@kensa/sdk';
import type { Translate } from '../i18n/i18n.tsx';
import { useI18n } from '../i18n/i18n.tsx';

export interface ReadableError {
  title: string;
  details: string[];
}

/** An error as a person reads it: the server's own (already translated) title and details, or ours. */
export function readableError(error: unknown, t: Translate): ReadableError {
  if (error instanceof APIError) {
    if (error.status === 0) return { title: t('errorNetwork'), details: [] };
    const details = error.detail === null ? [] : Array.isArray(error.detail) ? error.detail : [error.detail];
    return { title: error.title || t('errorStatus', { status: error.status }), details };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { title: t('errorUnknown', { message }), details: [] };
}

export function ErrorNotice(props: { error: unknown; onDismiss?: () => void }) {
  const { t } = useI18n();
  if (props.error === null || props.error === undefined) return null;
  const readable = readableError(props.error, t);
  return (
    <div class="notice notice-error" role="alert">
      <div class="notice-body">
        <strong>{readable.title}</strong>
        {readable.details.length > 0 && (
          <ul>
            {readable.details.map((detail) => (
              <li key={detail}>{detail}</li>
            ))}
          </ul>
        )}
      </div>
      {props.onDismiss && (
        <button type="button" class="button-quiet" onClick={props.onDismiss}>
          {t('dismiss')}
        </button>
      )}
    </div>
  );
}

export function SuccessNotice(props: { message: string | null }) {
  if (!props.message) return null;
  return (
    <div class="notice notice-success" role="status">
      {props.message}
    </div>
  );
}

/** The body every failed API call answers with (any route, any status). */
export interface ErrorBody {
  errors: {
    status: number;
    title: string;
    detail: string | string[] | null;
    source?: { pointer?: string | null } | null;
  };
}

/**
 * An error the server answered with. Its message is `"<title> (<status>)"`, as the original SDKs printed it,
 * so logs and `catch` blocks written for the original keep reading the same; where the title is empty (the
 * original's answer to deleting an unknown model), the detail takes its place.
 */
export class APIError extends Error {
  readonly status: number;
  readonly title: string;
  /** `null`, a sentence, or a list of sentences (e.g. each invalid file name of an upload). */
  readonly detail: string | string[] | null;
  /** The request path the error is about. */
  readonly pointer: string | null;

  constructor(status: number, title: string, detail: string | string[] | null = null, pointer: string | null = null) {
    super(`${title || (Array.isArray(detail) ? detail.join('; ') : detail ?? '')} (${status})`);
    this.name = 'APIError';
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.pointer = pointer;
  }

  /** Builds the error from an answer body; a body that is not the API's error shape (a proxy's page) keeps the HTTP status text. */
  static fromBody(status: number, statusText: string, body: unknown, path: string): APIError {
    const errors = (body as Partial<ErrorBody> | null)?.errors;
    if (errors && typeof errors === 'object' && typeof errors.title === 'string') {
      return new APIError(errors.status ?? status, errors.title, errors.detail ?? null, errors.source?.pointer ?? path);
    }
    return new APIError(status, statusText || `HTTP ${status}`, typeof body === 'string' && body ? body.slice(0, 500) : null, path);
  }
}

/** Thrown by `waitForModel` / `waitForItems` when the time runs out. */
export class WaitTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}

/** Thrown by `waitForModel` when the model's training failed; `statusText` says why. */
export class ModelFailedError extends Error {
  readonly modelId: number | string;
  readonly statusText: string | null;
  constructor(modelId: number | string, statusText: string | null) {
    super(`Model ${modelId} failed${statusText ? `: ${statusText}` : ''}`);
    this.name = 'ModelFailedError';
    this.modelId = modelId;
    this.statusText = statusText;
  }
}

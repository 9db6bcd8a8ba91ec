import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { languageOf, message, render, translate, type Language, type Message, type MessageKey } from '../i18n/index.ts';
import { SECURITY_HEADERS } from './security-headers.ts';
import { validationMessage } from './validation.ts';

/**
 * A refusal the client should see: status, a catalogue title and an optional detail. Services throw these;
 * the error handler renders them in the reader's language inside the contract's error envelope.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly title: MessageKey;
  readonly detail: Message | Message[] | string | null;
  constructor(status: number, title: MessageKey, detail: Message | Message[] | string | null = null) {
    super(title);
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

export { message };

export interface ErrorEnvelope {
  errors: { status: number; title: string; detail: string | string[] | null; source: { pointer: string } };
}

function pointerOf(request: FastifyRequest): string {
  const path = request.url.split('?')[0];
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

export function envelope(request: FastifyRequest, status: number, title: MessageKey, detail: Message | Message[] | string | string[] | null): ErrorEnvelope {
  return envelopeIn(languageOf(request.headers['accept-language']), pointerOf(request), status, title, detail);
}

/** The envelope where there is no Fastify request (answers Node's HTTP parser asks for). */
export function envelopeIn(language: Language, pointer: string, status: number, title: MessageKey, detail: Message | Message[] | string | string[] | null): ErrorEnvelope {
  const renderDetail = (d: Message | string) => (typeof d === 'string' ? d : render(language, d));
  return {
    errors: {
      status,
      title: translate(language, title),
      detail: detail === null ? null : Array.isArray(detail) ? detail.map(renderDetail) : renderDetail(detail),
      source: { pointer },
    },
  };
}

const MULTIPART_LIMITS: Record<string, MessageKey> = {
  FST_REQ_FILE_TOO_LARGE: 'fileTooLarge',
  FST_FILES_LIMIT: 'tooManyFiles',
  FST_PARTS_LIMIT: 'tooManyFiles',
  FST_FIELDS_LIMIT: 'requestTooLarge',
  FST_ERR_CTP_BODY_TOO_LARGE: 'requestTooLarge',
};

/** Limits the upload route was configured with, for the details of 413 answers. */
export interface LimitFacts {
  maxFileBytes: number;
  maxFilesPerRequest: number;
}

/** Every error of every route ends here and leaves as the contract's envelope. */
export function makeErrorHandler(limits: LimitFacts) {
  return function handleError(error: FastifyError | ApiError | Error, request: FastifyRequest, reply: FastifyReply) {
    if (error instanceof ApiError) {
      return reply.status(error.status).send(envelope(request, error.status, error.title, error.detail));
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      // anyOf failures repeat each branch's complaint; the anyOf line alone says it.
      const failures = fastifyError.validation;
      const anyOfPaths = new Set(failures.filter((v) => v.keyword === 'anyOf').map((v) => v.instancePath));
      const details = failures
        .filter((v) => v.keyword === 'anyOf' || !anyOfPaths.has(v.instancePath))
        .map((v) => validationMessage(v, fastifyError.validationContext ?? 'body'));
      return reply.status(400).send(envelope(request, 400, 'invalidRequest', details));
    }
    const code = fastifyError.code ?? '';
    if (code in MULTIPART_LIMITS) {
      const title = MULTIPART_LIMITS[code];
      const detail = title === 'fileTooLarge' ? message('fileSizeLimit', { megabytes: Math.round(limits.maxFileBytes / 1e6) })
        : title === 'tooManyFiles' ? message('filesPerRequestLimit', { count: limits.maxFilesPerRequest }) : null;
      return reply.status(413).send(envelope(request, 413, title, detail));
    }
    if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error instanceof SyntaxError) {
      return reply.status(400).send(envelope(request, 400, 'invalidJson', message('jsonSyntax')));
    }
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.status(415).send(envelope(request, 415, 'unsupportedMediaType',
        message('contentTypeNotAccepted', { type: String(request.headers['content-type'] ?? '').split(';')[0] || '(none)', expected: 'application/json or multipart/form-data' })));
    }
    const status = fastifyError.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.status(status).send(envelope(request, status, 'invalidRequest', error.message));
    }
    // With the request (method, URL without its token), so that a 500 in the log says which call failed.
    request.log.error({ err: error, req: request }, 'unhandled error');
    return reply.status(500).send(envelope(request, 500, 'internalError', null));
  };
}

/**
 * Answers Node's HTTP parser gives before a request reaches Fastify (headers too slow or too large, a malformed
 * request line), in the envelope and with the security headers. Replaces Fastify's default, which sends its own
 * JSON shape.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, title]: [number, MessageKey] = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'requestTimeout']
    : error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'headersTooLarge'] : [400, 'invalidRequest'];
  const body = JSON.stringify(envelopeIn('en', '', status, title, null));
  const headers = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${headers}connection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

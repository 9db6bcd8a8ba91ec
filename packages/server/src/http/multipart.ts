import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.ts';
import type { UploadLimits } from '../settings.ts';
import type { UploadedFile } from '../services/items.service.ts';
import { ApiError, message } from './errors.ts';

type PartLimits = NonNullable<Parameters<FastifyRequest['parts']>[0]>['limits'];

/**
 * The parts of a multipart request, with a stalled body given up: a client that sends nothing for
 * `request.bodyIdleMs` has its connection closed (the caller's cleanup then removes what it wrote). Errors of a
 * malformed body come out as 400s (see multipartError).
 */
export async function* multipartParts(request: FastifyRequest, limits: PartLimits): AsyncGenerator<Multipart> {
  const socket = request.raw.socket;
  const giveUp = () => socket.destroy();
  socket.setTimeout(request.bodyIdleMs, giveUp);
  try {
    for await (const part of request.parts({ limits })) yield part;
  } catch (error) {
    throw multipartError(error, request);
  } finally {
    socket.off('timeout', giveUp);
    socket.setTimeout(0);
  }
}

/**
 * What a failure while reading a multipart body means for the client. A connection closed under us (stalled and
 * cut off, or gone) is a timeout, not a server error — nobody reads the answer, and it must not be logged as a 500.
 * The body parser (busboy) throws plain errors without a code for a missing boundary, a body that ends early or a
 * malformed part, which are the client's mistakes (400, with the parser's reason). Refusals (ApiError), Fastify's
 * limits (FST_* codes) and the server's own failures (ENOSPC…) pass unchanged.
 */
export function multipartError(error: unknown, request: FastifyRequest): unknown {
  if (error instanceof ApiError || !(error instanceof Error)) return error;
  if (request.raw.socket.destroyed) return new ApiError(408, 'requestTimeout');
  if ((error as { code?: unknown }).code !== undefined) return error;
  return new ApiError(400, 'invalidMultipart', message('multipartMalformed', { reason: error.message.replace(/\.$/, '') }));
}

/**
 * Streams every file part of a multipart request to a temporary file (limits enforced while streaming)
 * and collects the fields; on any error the temporary files are removed. Otherwise the route removes them
 * (`removeTemporary`) when it is done with them, whatever happened: files it stored were moved away by then.
 */
export async function receiveFiles(request: FastifyRequest, kensa: ServerContext, limits: UploadLimits) {
  if (!request.isMultipart()) throw new ApiError(400, 'noImagesToUpload');
  const files: UploadedFile[] = [];
  const fields: Record<string, string> = {};
  try {
    for await (const part of multipartParts(request, { files: limits.maxFilesPerRequest, fileSize: limits.maxFileBytes, fields: 50, fieldSize: 10_000 })) {
      if (part.type === 'field') {
        fields[part.fieldname] = String(part.value);
        continue;
      }
      const temporaryPath = kensa.temp.newPath();
      files.push({ fileName: part.filename, temporaryPath });
      await pipeline(part.file, createWriteStream(temporaryPath));
      if (part.file.truncated) {
        throw new ApiError(413, 'fileTooLarge', message('fileSizeLimit', { megabytes: Math.round(limits.maxFileBytes / 1e6) }));
      }
    }
  } catch (error) {
    await removeTemporary(kensa, files);
    throw multipartError(error, request);
  }
  return { files, fields };
}

/** A true/false form field; absent, empty or "null" is null; anything else a 400 naming the field. */
export function formBoolean(fields: Record<string, string>, name: string): boolean | null {
  const value = fields[name]?.trim().toLowerCase();
  if (value === undefined || value === '' || value === 'null' || value === 'none') return null;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ApiError(400, 'invalidRequest', message('fieldEnum', { field: name, values: 'true, false' }));
}

export async function removeTemporary(kensa: ServerContext, files: UploadedFile[]) {
  await kensa.temp.remove(files.map((f) => f.temporaryPath));
}


import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import type { Installation, UploadLimits } from '../context.ts';
import type { UploadedFile } from '../services/items.service.ts';
import { ApiError, message } from './errors.ts';

/**
 * Streams every file part of a multipart request to a temporary file (limits enforced while streaming)
 * and collects the fields; on any error the temporary files are removed.
 */
export async function receiveFiles(request: FastifyRequest, kensa: Installation, limits: UploadLimits) {
  if (!request.isMultipart()) throw new ApiError(400, 'noImagesToUpload');
  const files: UploadedFile[] = [];
  const fields: Record<string, string> = {};
  try {
    for await (const part of request.parts({ limits: { files: limits.maxFilesPerRequest, fileSize: limits.maxFileBytes, fields: 50, fieldSize: 10_000 } })) {
      if (part.type === 'field') {
        fields[part.fieldname] = String(part.value);
        continue;
      }
      const temporaryPath = kensa.files.temporaryPath();
      files.push({ fileName: part.filename, temporaryPath });
      await pipeline(part.file, createWriteStream(temporaryPath));
      if (part.file.truncated) {
        throw new ApiError(413, 'fileTooLarge', message('fileSizeLimit', { megabytes: Math.round(limits.maxFileBytes / 1e6) }));
      }
    }
  } catch (error) {
    await removeTemporary(kensa, files);
    throw error;
  }
  return { files, fields };
}

export async function removeTemporary(kensa: Installation, files: UploadedFile[]) {
  await Promise.all(files.map((f) => kensa.files.removeTemporary(f.temporaryPath)));
}


import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';
import { bearer, data, errors } from '../http/schemas.ts';
import { AUDIT_COLUMNS, toCsv } from '../services/audit-export.service.ts';

/** The audit trail of predictions (beyond): CSV to file, or JSON for the web UI's printable page. */
export function auditExportRoutes(app: FastifyInstance, kensa: ServerContext) {
  app.get('/api/v1/audit/predictions', {
    schema: {
      tags: ['items'],
      summary: 'Predictions of a product line in a date range, for audits (beyond): CSV or JSON',
      description: `One row per item and model: ${AUDIT_COLUMNS.join(', ')}. \`from\` and \`to\` are UTC days, both included. ` +
        'CSV (the default) is RFC 4180 with a header and a UTF-8 byte-order mark; text a spreadsheet would run as a formula ' +
        '(starting with = + - @) is prefixed with an apostrophe.',
      security: bearer,
      querystring: {
        type: 'object',
        required: ['from', 'to'],
        additionalProperties: false,
        properties: {
          target: { type: 'string', maxLength: 200, description: 'Target id or name; default: the default target' },
          from: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
          to: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
          format: { type: 'string', enum: ['csv', 'json'] },
        },
      },
      response: {
        200: {
          description: 'text/csv, or with format=json the rows',
          content: {
            'text/csv': { schema: { type: 'string' } },
            'application/json': { schema: data({ type: 'object', properties: { product_line: { type: 'string' }, rows: { type: 'array', items: { type: 'object' } } } }) },
          },
        },
        ...errors(400, 401, 404),
      },
    },
  }, async (request, reply) => {
    const query = request.query as { target?: string; from: string; to: string; format?: 'csv' | 'json' };
    const { productLine, rows } = await kensa.auditExport.predictions(request.clientId, query, request.language);
    if (query.format === 'json') return { data: { product_line: productLine, rows } };
    const fileName = `kensa-predictions-${query.from}-${query.to}.csv`;
    reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${fileName}"`);
    return reply.send(toCsv(rows));
  });
}

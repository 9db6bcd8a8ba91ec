import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyMultipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { DEFAULT_UPLOAD_LIMITS, startInstallation, type RunningInstallation, type UploadLimits } from './context.ts';
import { answerClientError, ApiError, envelope, makeErrorHandler } from './http/errors.ts';
import { loggerOptions } from './http/logging.ts';
import { parsePublicUrl } from './http/public-url.ts';
import { setSecurityHeaders } from './http/security-headers.ts';
import { SHARED_SCHEMAS } from './http/schemas.ts';
import { languageOf, type Language } from './i18n/index.ts';
import { auditExportRoutes } from './routes/audit-export.routes.ts';
import { authRoutes } from './routes/auth.routes.ts';
import { bulkItemsRoutes } from './routes/bulk-items.routes.ts';
import { modelEvaluationRoutes } from './routes/model-evaluation.routes.ts';
import { preferencesRoutes } from './routes/preferences.routes.ts';
import { callbacksRoutes } from './routes/callbacks.routes.ts';
import { targetsRoutes } from './routes/targets.routes.ts';
import { docsRoutes } from './docs/docs.routes.ts';
import { samplesRoutes } from './samples/samples.routes.ts';
import { eventsRoutes } from './routes/events.routes.ts';
import { healthRoutes } from './routes/health.routes.ts';
import { itemsRoutes } from './routes/items.routes.ts';
import { licenseRoutes } from './routes/license.routes.ts';
import { modelsRoutes } from './routes/models.routes.ts';
import { MAX_ITEM_ID_LENGTH } from './services/items.service.ts';
import { SERVER_VERSION } from './version.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The client of the request's token (every /api/v1 route). */
    clientId: string;
    /** An upload that sends nothing for this long is given up (HttpTimeouts.bodyIdleMs). */
    bodyIdleMs: number;
    language: Language;
  }
}

export interface AppConfig {
  dataDir: string;
  /** Worker threads for training and prediction; default: the number of cores. */
  workers?: number;
  limits?: Partial<UploadLimits>;
  /** The built web UI to serve at `/`; default packages/web/dist when it exists. */
  webDist?: string | null;
  /** Log every request (KENSA_LOG=1); errors (500s, with their stack) are logged always. */
  logger?: boolean;
  /** Where log lines go (one JSON object a line); default standard output. */
  logStream?: { write(line: string): void };
  /** KENSA_PUBLIC_URL: the start of every image and heatmap URL in answers; the Host header is then never used. */
  publicUrl?: string | null;
  /** How long a client may take to send a request (see HttpTimeouts). */
  timeouts?: Partial<HttpTimeouts>;
  mqttUrl?: string | null;
  callbackRetryDelaysMs?: number[];
  /** PostgreSQL (KENSA_DATABASE_URL) instead of SQLite; jobs then go through pg-boss. */
  databaseUrl?: string | null;
  /** S3 or a shared folder (KENSA_BLOB_URL) for images and models. */
  blobUrl?: string | null;
  /** Take protocol and host from X-Forwarded-* headers (behind a load balancer). */
  trustProxy?: boolean;
  /** Run training and prediction jobs in this process (false: `kensa serve --no-workers`). */
  runQueuedJobs?: boolean;
  jobLeaseMs?: number;
}

/** Limits on slow clients: a connection that stalls is closed and its partial upload removed. */
export interface HttpTimeouts {
  /** The request line and headers must arrive within this (ms). */
  headersMs: number;
  /** The whole request, body included (ms): a large upload on a slow line must fit. */
  requestMs: number;
  /** A request body (an upload) that sends nothing for this long is given up (ms). */
  bodyIdleMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 30_000, requestMs: 600_000, bodyIdleMs: 30_000 };

const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** The HTTP server around an installation; closing the app stops the job queue and the database. */
export async function buildApp(config: AppConfig): Promise<{ app: FastifyInstance; kensa: RunningInstallation }> {
  const limits: UploadLimits = { ...DEFAULT_UPLOAD_LIMITS, ...config.limits };
  const timeouts: HttpTimeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...config.timeouts };
  const publicUrl = parsePublicUrl(config.publicUrl);
  const kensa = await startInstallation(config.dataDir, {
    workers: config.workers, limits, mqttUrl: config.mqttUrl, callbackRetryDelaysMs: config.callbackRetryDelaysMs,
    databaseUrl: config.databaseUrl, blobUrl: config.blobUrl, runQueuedJobs: config.runQueuedJobs, jobLeaseMs: config.jobLeaseMs,
  });
  const app = Fastify({
    logger: loggerOptions(config.logger ?? false, config.logStream),
    trustProxy: config.trustProxy ?? false,
    // Node checks these every connectionsCheckingInterval: a tenth of the header limit keeps the check prompt.
    requestTimeout: timeouts.requestMs,
    http: { headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs, connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.round(timeouts.headersMs / 10))) },
    // A path Fastify's router refuses (over-long parameter, bad percent-encoding) leaves in the envelope too.
    frameworkErrors: (error, request, reply) => {
      setSecurityHeaders(reply.raw, request.url);
      const status: 400 | 414 = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
      void (reply as FastifyReply).code(status).send(envelope(request, status, status === 414 ? 'uriTooLong' : 'invalidRequest', null));
    },
    clientErrorHandler: answerClientError,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
    // JSON bodies (100,000 item ids fit); multipart uploads are limited per file while streaming instead.
    bodyLimit: 10_000_000,
    // Item ids are path parameters (/item/{id}): every id upload accepts must fit (Fastify's default is 100).
    routerOptions: { maxParamLength: MAX_ITEM_ID_LENGTH },
  });
  app.addHook('onClose', async () => { await kensa.stop(); });

  // Responses are plain JSON; response schemas only document them (see http/schemas.ts).
  app.setSerializerCompiler(() => (payload) => JSON.stringify(payload));

  // JSON bodies; a body that is a JSON string holding JSON (RestSharp's double encoding) is accepted too.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      const text = String(body);
      let value: unknown = text.trim() === '' ? undefined : JSON.parse(text);
      if (typeof value === 'string' && /^\s*[[{]/.test(value)) value = JSON.parse(value);
      done(null, value);
    } catch (error) {
      done(Object.assign(error as Error, { statusCode: 400 }), undefined);
    }
  });

  await app.register(fastifyMultipart, { preservePath: true, limits: { fileSize: limits.maxFileBytes, files: limits.maxFilesPerRequest } });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Kensa API', version: SERVER_VERSION, description: 'Visual inspection: the wire contract of the original service, and more. Answers are `{"data": …}`; errors `{"errors": {status, title, detail, source: {pointer}}}`; `Accept-Language: ja` gives Japanese texts.' },
      servers: [],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    refResolver: { buildLocalReference: (json) => String(json.$id) },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs' });
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);

  app.decorateRequest('clientId', '');
  app.decorateRequest('language', 'en');
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0];
    setSecurityHeaders(reply.raw, path);
    request.language = languageOf(request.headers['accept-language']);
    if (!path.startsWith('/api/v1/') && path !== '/api/auth/license') return;
    const header = request.headers.authorization;
    const bearerToken = header?.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : undefined;
    // Image files and the event stream may also use the signed query token of the URLs in answers
    // (<img> tags and EventSource send no headers).
    const queryAllowed = path.startsWith('/api/v1/images/') || path === '/api/v1/events';
    const queryToken = queryAllowed ? (request.query as { token?: string }).token : undefined;
    if (!bearerToken && queryToken) {
      const clientId = await kensa.auth.verifyMediaToken(queryToken);
      if (!clientId) throw new ApiError(401, 'unauthorized');
      request.clientId = clientId;
      return;
    }
    request.clientId = await kensa.auth.authenticate(bearerToken);
  });

  app.setErrorHandler(makeErrorHandler(limits));
  app.decorateRequest('bodyIdleMs', timeouts.bodyIdleMs);
  authRoutes(app, kensa);
  healthRoutes(app, kensa);
  licenseRoutes(app, kensa);
  bulkItemsRoutes(app, kensa, publicUrl);
  itemsRoutes(app, kensa, limits, publicUrl);
  preferencesRoutes(app, kensa);
  auditExportRoutes(app, kensa);
  modelsRoutes(app, kensa, publicUrl);
  modelEvaluationRoutes(app, kensa, publicUrl);
  eventsRoutes(app, kensa);
  callbacksRoutes(app, kensa);
  targetsRoutes(app, kensa);
  docsRoutes(app);
  samplesRoutes(app, kensa);
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const webDist = config.webDist === undefined ? DEFAULT_WEB_DIST : config.webDist;
  const serveWeb = webDist !== null && existsSync(webDist);
  if (serveWeb) await app.register(fastifyStatic, { root: webDist, prefix: '/', wildcard: false });
  app.setNotFoundHandler((request, reply) => {
    // The web UI routes in the browser: unknown non-API paths get its index page.
    if (serveWeb && request.method === 'GET' && !request.url.startsWith('/api/')) return reply.sendFile('index.html');
    return reply.status(404).send(envelope(request, 404, 'routeNotFound', null));
  });
  return { app, kensa };
}

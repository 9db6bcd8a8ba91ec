import { existsSync } from 'node:fs';
import fastifyMultipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { startContext, type RunningContext } from './context.ts';
import { isApiPath, makeRoutesPublic, PUBLIC_ROUTE, registerAuthentication } from './http/authentication.ts';
import { answerClientError, envelope, makeErrorHandler } from './http/errors.ts';
import { loggerOptions } from './http/logging.ts';
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
import { completeSettings, type ServerOptions } from './settings.ts';
import { SERVER_VERSION } from './version.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The client of the request's token (every route that is not public). */
    clientId: string;
    /** An upload that sends nothing for this long is given up (HttpTimeouts.bodyIdleMs). */
    bodyIdleMs: number;
    language: Language;
  }
}

/** The HTTP server around an installation; closing the app stops the job queue and the database. */
export async function buildApp(options: ServerOptions): Promise<{ app: FastifyInstance; kensa: RunningContext }> {
  const settings = completeSettings(options);
  const { limits, timeouts, publicUrl } = settings;
  const kensa = await startContext(settings);
  const app = Fastify({
    logger: loggerOptions(settings.logger, settings.logStream),
    trustProxy: settings.trustProxy,
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
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);

  app.decorateRequest('clientId', '');
  app.decorateRequest('language', 'en');
  app.addHook('onRequest', async (request, reply) => {
    setSecurityHeaders(reply.raw, request.url.split('?')[0]);
    request.language = languageOf(request.headers['accept-language']);
  });
  const webDist = settings.webDist;
  const serveWeb = webDist !== null && existsSync(webDist);
  // The web UI routes in the browser: unknown non-API paths get its index page.
  const servesWebPage = (request: FastifyRequest) => serveWeb && request.method === 'GET' && !isApiPath(request.url);
  registerAuthentication(app, kensa.auth);

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

  app.get('/api/openapi.json', { schema: { hide: true }, ...PUBLIC_ROUTE }, async () => app.swagger());

  // Plugins' routes (the API reference, the web UI's files) are public; the not-found handler lives here because
  // it sends the web UI's page with the static plugin's sendFile.
  await app.register(async (publicScope) => {
    makeRoutesPublic(publicScope);
    await publicScope.register(fastifySwaggerUi, { routePrefix: '/api/docs' });
    if (serveWeb) await publicScope.register(fastifyStatic, { root: webDist, prefix: '/', wildcard: false });
    publicScope.setNotFoundHandler((request, reply) => {
      if (servesWebPage(request)) return reply.sendFile('index.html');
      return reply.status(404).send(envelope(request, 404, 'routeNotFound', null));
    });
  });
  return { app, kensa };
}

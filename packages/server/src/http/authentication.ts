import type { FastifyInstance, RouteOptions } from 'fastify';
import type { AuthService } from '../services/auth.service.ts';
import { ApiError } from './errors.ts';

/**
 * Who may call a route, declared on the route (`config: { access }`):
 * - `client` (the default): a bearer access token;
 * - `client-or-media-token`: that, or the signed `?token=` of the URLs in answers (`<img>` tags and EventSource
 *   send no headers);
 * - `public`: anyone (logging in, health, documentation, the web UI's files).
 */
export type RouteAccess = 'client' | 'client-or-media-token' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

/** Route options that open a route to anyone. */
export const PUBLIC_ROUTE = { config: { access: 'public' as RouteAccess } };
/** Route options of files and streams that URLs in answers point to with their signed `?token=`. */
export const MEDIA_TOKEN_ROUTE = { config: { access: 'client-or-media-token' as RouteAccess } };

/** Marks every route registered in `scope` (and below it) public: for plugins whose routes we do not declare ourselves. */
export function makeRoutesPublic(scope: FastifyInstance): void {
  scope.addHook('onRoute', (route: RouteOptions) => {
    route.config = { ...route.config, access: 'public' };
  });
}

/**
 * Authentication decided on the route the router matched, never on the raw URL: an encoded or oddly written path
 * (`/api/%761/…`, `/%61pi/…`) reaches a route only as that route, with that route's access. A request that matched
 * no route is authenticated too (so that it learns nothing about the API's routes) when its path is an API path in any spelling; other unknown paths
 * are the web UI's (its page, or a 404).
 */
export function registerAuthentication(app: FastifyInstance, auth: AuthService): void {
  const routes: RouteOptions[] = [];
  ROUTES_OF.set(app, routes);
  app.addHook('onRoute', (route) => { routes.push(route); });
  app.addHook('onRequest', async (request) => {
    const access: RouteAccess = request.is404
      ? (isApiPath(request.url) ? 'client' : 'public')
      : request.routeOptions.config.access ?? 'client';
    if (access === 'public') return;
    const header = request.headers.authorization;
    const bearerToken = header?.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : undefined;
    const queryToken = access === 'client-or-media-token' ? (request.query as { token?: unknown }).token : undefined;
    if (!bearerToken && typeof queryToken === 'string' && queryToken !== '') {
      const clientId = await auth.verifyMediaToken(queryToken);
      if (!clientId) throw new ApiError(401, 'unauthorized');
      request.clientId = clientId;
      return;
    }
    request.clientId = await auth.authenticate(bearerToken);
  });
}

const ROUTES_OF = new WeakMap<FastifyInstance, RouteOptions[]>();

/** Every route of an app with its access (for tests that try each protected route; a new route is covered at once). */
export function routeAccessTable(app: FastifyInstance): { method: string; url: string; access: RouteAccess }[] {
  // Read now, not when the route was added: a scope's onRoute hook (makeRoutesPublic) runs after ours.
  return (ROUTES_OF.get(app) ?? []).flatMap((route) => [route.method].flat().map((method) => ({
    method, url: route.url, access: route.config?.access ?? 'client',
  })));
}

/** Whether a request's path names the API however it is spelled (case, percent-encoding, repeated slashes, dot segments). */
export function isApiPath(url: string): boolean {
  return /^\/api(\/|$)/.test(normalisedPath(url));
}

function normalisedPath(url: string): string {
  let path = url.split('?')[0];
  // Decoded until stable: %2561 is %61 is "a".
  for (let round = 0; round < 3 && path.includes('%'); round++) {
    try { path = decodeURIComponent(path); } catch { break; }
  }
  const segments: string[] = [];
  for (const segment of path.replace(/\\/g, '/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join('/')}`.toLowerCase();
}

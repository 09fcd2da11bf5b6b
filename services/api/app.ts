import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import cors from 'cors';
import express from 'express';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Store } from 'express-rate-limit';
import helmet from 'helmet';
import type { ApiConfig } from '../shared/config';
import { withLogContext } from '../shared/context';
import {
  ForbiddenError,
  HiddenResourceError,
  MethodNotAllowedError,
  NotFoundError,
  TooManyRequestsError,
  UnsupportedMediaTypeError,
} from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import type { Authenticator } from './auth/authenticator';
import { UnknownUidError } from './auth/authenticator';
import type { AccessService } from './domain/access.service';
import type { Actor, RequestMeta } from './domain/actor';
import type { AuditTrail } from './domain/audit-trail';
import { createHttpMetrics } from './http/http-metrics';
import type { Problem } from './http/problem';
import { toProblem } from './http/problem';
import type { Allow, RouteDefinition } from './http/route';
import { parsePart } from './http/validation';

export interface AppDependencies {
  readonly config: ApiConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly authenticator: Authenticator;
  readonly access: AccessService;
  readonly auditTrail: AuditTrail;
  readonly routes: readonly RouteDefinition[];
  /**
   * Counters shared by every API process (Redis); undefined: in this process's memory. A shared
   * store that fails lets the request through: an outage of the counters must not become one of
   * the API.
   */
  readonly rateLimitStores?: { readonly perIp: Store; readonly perUser: Store };
}

/** What the pipeline learns about a request, kept in res.locals for later stages. */
interface RequestState {
  meta: RequestMeta;
  started: bigint;
  route?: RouteDefinition;
  actor?: Actor;
  uid?: string;
  params?: Record<string, unknown>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

function state(res: Response): RequestState {
  return res.locals as unknown as RequestState;
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

function isRoleList(allow: Allow): allow is readonly ['ADMIN' | 'SCIENTIST', ...Array<'ADMIN' | 'SCIENTIST'>] {
  return Array.isArray(allow);
}

/**
 * Builds the API's express app; never listens (main.ts and tests do). Order of a request:
 * request id and log context → metrics → helmet → CORS (if configured) → per-IP limit → route:
 * authenticate → per-user limit → path params → authorise → JSON body → query and body → handler →
 * one error middleware turning every failure into problem+json.
 */
export function buildApp(deps: AppDependencies): express.Express {
  const { config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('query parser', 'simple');
  app.set('json spaces', 0);
  // Replies to users are no-store, so a validator serves nothing, while hashing every body costs
  // (a 1,000-row page is about 130 KB).
  app.set('etag', false);
  const httpMetrics = createHttpMetrics(deps.metrics);

  app.use((req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const s = state(res);
    s.meta = { requestId, ip: req.ip };
    s.started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - s.started) / 1e9;
      const routeLabel = s.route ? s.route.path : res.statusCode === 404 ? 'unmatched' : 'other';
      httpMetrics.observe(req.method, routeLabel, res.statusCode, seconds);
      const level = res.statusCode >= 500 ? 'error' : 'http';
      // winston formats a line before its transports drop it: skip the work when nobody logs it.
      if (!logger.isLevelEnabled(level)) return;
      logger.log(level, 'request', {
        http: { request: { method: req.method }, response: { status_code: res.statusCode } },
        url: { path: req.path },
        route: routeLabel,
        duration_ms: Math.round(seconds * 1000),
        user: s.actor?.id,
      });
    });
    withLogContext({ requestId }, () => next());
  });

  app.use(helmet());
  if (config.corsOrigins.length > 0) {
    app.use(
      cors({
        origin: [...config.corsOrigins],
        methods: ['GET', 'POST', 'PUT', 'DELETE'],
        allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
        exposedHeaders: ['Link', 'X-Request-Id', 'Retry-After'],
        maxAge: 600,
      }),
    );
  }

  const publicPaths = new Set(deps.routes.filter((r) => r.allow === 'PUBLIC').map((r) => r.path));
  app.use(
    rateLimit({
      windowMs: config.rateLimit.windowMs,
      limit: config.rateLimit.perIp,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      // Probes come from the platform and must keep answering when a client floods the API.
      skip: (req) => publicPaths.has(req.path.replace(/\/+$/, '') || '/'),
      handler: (req, _res, next) => next(tooMany(req)),
      ...(deps.rateLimitStores ? { store: deps.rateLimitStores.perIp, passOnStoreError: true } : {}),
    }),
  );
  const perUser = rateLimit({
    windowMs: config.rateLimit.windowMs,
    limit: config.rateLimit.perUser,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (_req, res) => `user:${state(res).actor?.id ?? ''}`,
    handler: (req, _res, next) => next(tooMany(req)),
    ...(deps.rateLimitStores ? { store: deps.rateLimitStores.perUser, passOnStoreError: true } : {}),
  });

  // Parsed inside each route, after authorisation: a caller who may not use the route gets its
  // 401 or 403 without us reading its body.
  const jsonBody = express.json({ limit: config.bodyLimitBytes, strict: true, type: ['application/json', 'application/*+json'] });

  const router = express.Router({ strict: false, caseSensitive: true });
  const methodsByPath = new Map<string, Set<string>>();
  for (const r of deps.routes) {
    const chain: RequestHandler[] = [markRoute(r)];
    if (r.allow !== 'PUBLIC') chain.push(authenticate(r, deps), perUser);
    chain.push(validateParams(r), authorise(r, deps.access));
    if (r.body) chain.push(jsonBody);
    chain.push(handle(r));
    router[r.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'](r.path, ...chain);
    const methods = methodsByPath.get(r.path) ?? new Set<string>();
    methods.add(r.method);
    if (r.method === 'GET') methods.add('HEAD');
    methodsByPath.set(r.path, methods);
  }
  // Registered after every route: reached only when the path matched and the method did not.
  for (const [path, methods] of methodsByPath) {
    router.all(path, (req, _res, next) => {
      next(new MethodNotAllowedError(`${req.method} is not allowed on this resource`, [...methods].sort()));
    });
  }
  app.use(router);
  // Dev only: the built web page, mounted after every API route so it can never shadow one.
  if (config.webDir !== undefined) app.use(webPage(config.webDir, config));
  app.use((req, _res, next) => next(new NotFoundError(`no resource at ${req.path}`)));
  app.use(errorHandler(deps));
  return app;
}

function tooMany(req: Request): TooManyRequestsError {
  const info = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit;
  const seconds = info?.resetTime ? (info.resetTime.getTime() - Date.now()) / 1000 : 60;
  return new TooManyRequestsError('too many requests; retry later', seconds);
}

function markRoute(r: RouteDefinition): RequestHandler {
  return (_req, res, next) => {
    state(res).route = r;
    next();
  };
}

/**
 * The experiment a route about one experiment's data names, when its path parameters are valid
 * (they are kept, so validateParams does not parse them again): authentication then reads the
 * caller's association with it along with the user row (one statement instead of two). Invalid
 * ones are refused later, by validateParams, after the 401s.
 */
function namedExperiment(r: RouteDefinition): (req: Request, s: RequestState) => number | undefined {
  const schema = r.allow === 'ASSOCIATED_SCIENTIST' ? r.params : undefined;
  if (schema === undefined) return () => undefined;
  return (req, s) => {
    const parsed = schema.safeParse({ ...req.params });
    if (!parsed.success) return undefined;
    s.params = parsed.data as Record<string, unknown>;
    return (parsed.data as { experiment_id: number }).experiment_id;
  };
}

function authenticate(r: RouteDefinition, deps: AppDependencies): RequestHandler {
  const experimentOf = namedExperiment(r);
  return async (req, res, next) => {
    try {
      const actor = await deps.authenticator.authenticate(req.get('authorization'), experimentOf(req, state(res)));
      state(res).actor = actor;
      withLogContext({ userId: actor.id }, () => next());
    } catch (err) {
      if (err instanceof UnknownUidError) state(res).uid = err.uid;
      next(err);
    }
  };
}

function validateParams(r: RouteDefinition): RequestHandler {
  return (req, res, next) => {
    const s = state(res);
    s.params ??= r.params ? (parsePart(r.params, 'params', { ...req.params }) as Record<string, unknown>) : {};
    next();
  };
}

function authorise(r: RouteDefinition, access: AccessService): RequestHandler {
  return async (_req, res, next) => {
    const s = state(res);
    const actor = s.actor;
    const allow = r.allow;
    if (allow === 'PUBLIC') return next();
    if (!actor) throw new Error(`route ${r.path} reached authorisation without an actor`);
    if (allow === 'ANY_USER') return next();
    if (allow === 'SELF_OR_ADMIN') {
      if (actor.role === 'ADMIN' || s.params?.user_id === actor.id) return next();
      throw new ForbiddenError('only an ADMIN or the user themself may do this');
    }
    if (allow === 'ASSOCIATED_SCIENTIST') {
      await access.assertCanReadExperiment(actor, s.params?.experiment_id as number);
      return next();
    }
    if (isRoleList(allow)) {
      if (allow.includes(actor.role)) return next();
      throw new ForbiddenError(`only ${allow.join(' or ')} may do this`);
    }
    const unreachable: never = allow;
    throw new Error(`unknown rule ${String(unreachable)}`);
  };
}

function handle(r: RouteDefinition): RequestHandler {
  return async (req, res) => {
    const s = state(res);
    if (r.body && req.body === undefined && hasBody(req)) {
      throw new UnsupportedMediaTypeError('the request body must be JSON (Content-Type: application/json)');
    }
    // Unknown query parameters are refused (strict schemas); routes without a schema ignore them.
    const query = r.query ? parsePart(r.query, 'query', { ...(req.query as Record<string, unknown>) }) : {};
    const body = r.body ? parsePart(r.body, 'body', req.body) : undefined;
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const q = req.originalUrl.indexOf('?');
    const reply = await r.handler({
      actor: s.actor,
      meta: s.meta,
      params: s.params,
      query,
      body,
      url: { path: req.baseUrl + req.path, search: new URLSearchParams(q >= 0 ? req.originalUrl.slice(q + 1) : '') },
      signal: controller.signal,
      accepts: (types) => req.accepts([...types]) || undefined,
      header: (name) => req.get(name),
    });
    // Nothing a user is allowed to see may sit in a shared cache.
    if (r.allow !== 'PUBLIC') res.setHeader('Cache-Control', 'no-store');
    if (reply.headers) res.set(reply.headers);
    if (reply.stream !== undefined) {
      res.status(reply.status ?? r.status ?? 200).type(reply.contentType ?? 'application/octet-stream');
      if (req.method === 'HEAD') {
        // Headers only: close the iterator so the work behind it never runs.
        await reply.stream[Symbol.asyncIterator]().return?.();
        res.end();
        return;
      }
      try {
        await pipeline(Readable.from(reply.stream, { objectMode: false }), res);
      } catch (err) {
        // The client went away: the pipeline closed the source, which stopped the work behind it.
        if (controller.signal.aborted) return;
        throw err;
      }
    } else if (reply.text !== undefined) {
      res.status(reply.status ?? r.status ?? 200).type(reply.contentType ?? 'text/plain').send(reply.text);
    } else if (reply.body === undefined) {
      res.status(reply.status ?? 204).end();
    } else {
      res.status(reply.status ?? r.status ?? 200).json(reply.body);
    }
  };
}

function errorHandler(deps: AppDependencies): ErrorRequestHandler {
  return async (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const s = state(res);
    const { problem, headers, unexpected } = toProblem(err);
    if (unexpected) deps.logger.error('request failed', { err, route: s.route?.path });
    if (res.headersSent) {
      // A reply was under way (e.g. a stream): all that is left is to cut it short.
      res.destroy();
      return;
    }
    const path = req.originalUrl.split('?')[0] ?? req.path;
    const r = s.route;
    if (r && r.allow !== 'PUBLIC' && (problem.status === 401 || problem.status === 403 || problem.status === 404)) {
      // Recorded before the reply, so a client never sees a refusal the audit trail lacks.
      const targetId = r.target ? (s.params?.[r.target.param] ?? req.params[r.target.param]) : undefined;
      try {
        await deps.auditTrail.recordDenial(s.actor, s.uid, s.meta, {
          action: r.action,
          outcome: problem.status === 404 && !(err instanceof HiddenResourceError) ? 'not_found' : 'denied',
          targetType: r.target?.type,
          targetId: typeof targetId === 'string' || typeof targetId === 'number' ? String(targetId) : undefined,
          status: problem.status,
          reason: err instanceof HiddenResourceError ? err.auditReason : problem.detail,
          method: req.method,
          path,
        });
      } catch (auditErr) {
        deps.logger.error('could not audit a denied request', { err: auditErr });
      }
    }
    const body: Problem = { ...problem, instance: path, request_id: s.meta.requestId };
    res.status(problem.status).set(headers).type('application/problem+json').send(JSON.stringify(body));
  };
}

/**
 * The web page's static files (API_WEB_DIR, dev only: nginx serves them in compose and production)
 * and, with the Auth emulator, its config.json. The page signs in from the browser, so its CSP lets
 * it reach Firebase Auth (the emulator in dev) on top of helmet's same-origin default.
 */
function webPage(dir: string, config: ApiConfig): express.Router {
  const emulator = config.firebaseAuthEmulatorHost === undefined ? undefined : `http://${config.firebaseAuthEmulatorHost}`;
  const csp = [
    "default-src 'self'",
    `connect-src 'self' https://identitytoolkit.googleapis.com https://securetoken.googleapis.com${emulator ? ` ${emulator}` : ''}`,
    "img-src 'self' data: blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  const page = express.Router();
  page.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', csp);
    next();
  });
  if (emulator !== undefined) {
    // The emulator accepts any API key; without it, config.json must be a file in dir (web/config.example.json).
    const runtime = JSON.stringify({ firebase: { apiKey: 'fake-api-key', projectId: config.firebaseProjectId }, authEmulatorUrl: emulator, apiBaseUrl: '' });
    page.get('/config.json', (_req, res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.type('application/json').send(runtime);
    });
  }
  page.use(
    express.static(path.resolve(dir), {
      index: 'index.html',
      // Asset names carry a content hash; index.html must be revalidated to pick up a new build.
      setHeaders: (res, file) => {
        res.setHeader('Cache-Control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );
  return page;
}

export type { Problem };

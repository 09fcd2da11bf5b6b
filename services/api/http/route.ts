import type { z } from 'zod';
import type { Actor, RequestMeta, Role } from '../domain/actor';

/**
 * Who may call a route. Every route states it: `allow` is a required field of RouteSpec, so a
 * route without a rule does not compile.
 * - 'PUBLIC': no token (health, readiness, metrics).
 * - 'ANY_USER': any authenticated user.
 * - roles, e.g. ['ADMIN']: users with one of these roles, else 403.
 * - 'SELF_OR_ADMIN': the user named by the `user_id` path parameter, or an ADMIN, else 403.
 * - 'ASSOCIATED_SCIENTIST': a SCIENTIST associated with the `experiment_id` path parameter; an
 *   ADMIN gets 403, a scientist not associated gets 404 (the experiment's existence is hidden).
 */
export type Allow = 'PUBLIC' | 'ANY_USER' | 'SELF_OR_ADMIN' | 'ASSOCIATED_SCIENTIST' | readonly [Role, ...Role[]];

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** The path parameters a rule needs; the route's params schema must produce them. */
export type ParamsFor<A extends Allow> = A extends 'SELF_OR_ADMIN'
  ? { user_id: string }
  : A extends 'ASSOCIATED_SCIENTIST'
    ? { experiment_id: number }
    : object;

export type ActorFor<A extends Allow> = A extends 'PUBLIC' ? undefined : Actor;

export interface RouteContext<A extends Allow, P, Q, B> {
  readonly actor: ActorFor<A>;
  readonly meta: RequestMeta;
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** Path and query string as the client sent them, e.g. to build a Link to the next page. */
  readonly url: { readonly path: string; readonly search: URLSearchParams };
  /** Aborted when the client goes away; long work (streams) should stop. */
  readonly signal: AbortSignal;
  /** The best of `types` by the request's Accept header (the first when it accepts anything). */
  readonly accepts: (types: readonly string[]) => string | undefined;
  /** A request header (case-insensitive name), e.g. Last-Event-ID. */
  readonly header: (name: string) => string | undefined;
}

export interface Reply {
  readonly status?: number;
  /** JSON-serialised; undefined sends no body (204 unless status says otherwise). */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Content type for a text body or a stream; JSON otherwise. */
  readonly contentType?: string;
  /** Sent as it is; bytes are taken to be UTF-8 text. */
  readonly text?: string | Buffer;
  /**
   * A body of any size, written as the client reads it (backpressure). The iterator is closed
   * (return()) when the client goes away, which is how the work behind it stops.
   */
  readonly stream?: AsyncIterable<string | Buffer>;
}

interface BaseSpec<A extends Allow, P, Q, B> {
  readonly method: HttpMethod;
  /** Express path, e.g. '/users/:user_id'. A trailing slash is always optional. */
  readonly path: string;
  /** Stable name of what the route does, used by the audit trail and metrics ('users.create'). */
  readonly action: string;
  readonly allow: A;
  readonly summary?: string;
  /** Longer text for the OpenAPI document: semantics a client must know. */
  readonly description?: string;
  readonly query?: z.ZodType<Q>;
  readonly body?: z.ZodType<B>;
  /** Status of a successful reply when the handler does not say (default 200). */
  readonly status?: number;
  /** Shape of a successful JSON reply, for the OpenAPI document. */
  readonly response?: z.ZodType<unknown>;
  /** Other media types the route can answer with (content negotiation), for the OpenAPI document. */
  readonly alsoProduces?: readonly string[];
  /** What audit events of denied calls name as the target. */
  readonly target?: { readonly type: string; readonly param: keyof P & string };
  readonly handler: (ctx: RouteContext<A, P, Q, B>) => Reply | Promise<Reply>;
}

/** Rules that read a path parameter make the params schema mandatory. */
export type RouteSpec<A extends Allow, P, Q, B> = BaseSpec<A, P, Q, B> &
  (A extends 'SELF_OR_ADMIN' | 'ASSOCIATED_SCIENTIST' ? { readonly params: z.ZodType<P> } : { readonly params?: z.ZodType<P> });

/** A route with its types erased, as the app registers it. */
export interface RouteDefinition {
  readonly method: HttpMethod;
  readonly path: string;
  readonly action: string;
  readonly allow: Allow;
  readonly summary?: string;
  readonly description?: string;
  readonly params?: z.ZodType<unknown>;
  readonly query?: z.ZodType<unknown>;
  readonly body?: z.ZodType<unknown>;
  readonly status?: number;
  readonly response?: z.ZodType<unknown>;
  readonly alsoProduces?: readonly string[];
  readonly target?: { readonly type: string; readonly param: string };
  readonly handler: (ctx: RouteContext<Allow, unknown, unknown, unknown>) => Reply | Promise<Reply>;
}

/** Declares a route. Type parameters are inferred from the schemas; see Allow for the rules. */
export function route<
  A extends Allow,
  P extends ParamsFor<A> = ParamsFor<A>,
  Q = Record<string, never>,
  B = undefined,
>(spec: RouteSpec<A, P, Q, B>): RouteDefinition {
  return spec as unknown as RouteDefinition;
}

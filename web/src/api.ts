/** The MyMONIT API over fetch: bearer token, one retry with a refreshed token, problem+json errors. */

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** An error response of the API; `detail` is written for people and is what the page shows. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors: readonly FieldError[] = [],
    readonly requestId?: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

/** The API refused a freshly refreshed token (expired, revoked, or a uid it does not know). */
export class SessionExpiredError extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'SessionExpiredError';
  }
}

export class NetworkError extends Error {
  constructor() {
    super('Cannot reach the MyMONIT API. Check your connection and try again.');
    this.name = 'NetworkError';
  }
}

export interface TokenSource {
  /** A Firebase ID token; forceRefresh fetches a new one even when the cached one looks valid. */
  token(forceRefresh: boolean): Promise<string>;
  /** Called once the session is over, before SessionExpiredError reaches the caller. */
  expired(detail: string): void;
}

export type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  readonly query?: Query;
  readonly body?: unknown;
  readonly accept?: string;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

export interface Page<T> {
  readonly rows: T[];
  /** API path of the next page (from the Link header), undefined on the last one. */
  readonly next: string | undefined;
}

async function problemOf(res: Response): Promise<ApiError> {
  const fallback = `${res.status} ${res.statusText || 'error'}`;
  if (!/json/.test(res.headers.get('content-type') ?? '')) {
    await res.body?.cancel();
    return new ApiError(res.status, fallback, `The API answered ${fallback}.`);
  }
  try {
    const p = (await res.json()) as unknown;
    if (typeof p !== 'object' || p === null) throw new Error('not an object');
    const o = p as Record<string, unknown>;
    const errors = Array.isArray(o.errors)
      ? o.errors.flatMap((e): FieldError[] => {
          const f = e as Record<string, unknown> | null;
          return f && typeof f.field === 'string' && typeof f.message === 'string' ? [{ field: f.field, message: f.message }] : [];
        })
      : [];
    return new ApiError(
      res.status,
      typeof o.title === 'string' ? o.title : fallback,
      typeof o.detail === 'string' ? o.detail : fallback,
      errors,
      typeof o.request_id === 'string' ? o.request_id : undefined,
    );
  } catch {
    return new ApiError(res.status, fallback, `The API answered ${fallback}.`);
  }
}

function nextLink(res: Response): string | undefined {
  const link = res.headers.get('link');
  const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
  return m?.[1];
}

export class Api {
  private expiredOnce = false;

  constructor(
    private readonly baseUrl: string,
    private readonly auth: TokenSource,
  ) {}

  /** `path` is an API path such as /experiments or a Link target; the query is appended. */
  url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs ? (path.includes('?') ? '&' : '?') + qs : ''}`;
  }

  /** A successful response, its body unread; anything else is thrown as an ApiError. */
  async send(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const attempt = async (forceRefresh: boolean): Promise<Response> => {
      const headers: Record<string, string> = {
        accept: opts.accept ?? 'application/json',
        authorization: `Bearer ${await this.auth.token(forceRefresh)}`,
        ...opts.headers,
      };
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      try {
        return await fetch(this.url(path, opts.query), {
          method,
          headers,
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          signal: opts.signal,
          cache: 'no-store',
        });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        throw new NetworkError();
      }
    };
    let res = await attempt(false);
    // The cached token may have expired or been revoked since Firebase last refreshed it.
    if (res.status === 401) {
      await res.body?.cancel();
      res = await attempt(true);
    }
    if (res.ok) return res;
    const problem = await problemOf(res);
    if (res.status === 401) {
      if (!this.expiredOnce) {
        this.expiredOnce = true;
        this.auth.expired(problem.detail);
      }
      throw new SessionExpiredError(problem.detail);
    }
    throw problem;
  }

  async json<T>(method: string, path: string, decode: (v: unknown) => T, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts);
    return decode((await res.json()) as unknown);
  }

  get<T>(path: string, decode: (v: unknown) => T, opts: RequestOptions = {}): Promise<T> {
    return this.json('GET', path, decode, opts);
  }

  /** A request whose success has no body of interest (204, or a body the caller ignores). */
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<void> {
    const res = await this.send(method, path, opts);
    await res.body?.cancel();
  }

  /** One page of a listing; `path` may be a Link target from the previous page. */
  async page<T>(path: string, row: (v: unknown) => T, opts: RequestOptions = {}): Promise<Page<T>> {
    const res = await this.send('GET', path, opts);
    const body = (await res.json()) as unknown;
    if (!Array.isArray(body)) throw new ApiError(res.status, 'Unexpected response', 'The API sent a page that is not a list.');
    return { rows: body.map(row), next: nextLink(res) };
  }
}

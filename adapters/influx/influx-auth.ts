import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';

/**
 * Who may write through the influx endpoint. Credentials come as InfluxDB clients send them:
 * v1 `u`/`p` query parameters, HTTP Basic, `Authorization: Token <token>` (InfluxDB 2's v1
 * compatibility, and v2's own), `Authorization: Bearer <token>`, and InfluxDB 1.8's
 * `Token <user>:<password>`. Each token or user may be limited to some experiments
 * (databases/buckets); without a list it may write to any.
 *
 * Auth file (JSON):
 *   {"tokens": [{"token": "…", "experiments": ["site-a"]}],
 *    "users":  [{"username": "telegraf", "password": "…"}]}
 */

const names = z.array(z.string().min(1)).min(1).optional();
const authFileSchema = z
  .object({
    tokens: z.array(z.object({ token: z.string().min(16, 'must be at least 16 characters'), experiments: names }).strict()).default([]),
    users: z
      .array(z.object({ username: z.string().min(1), password: z.string().min(8, 'must be at least 8 characters'), experiments: names }).strict())
      .default([]),
  })
  .strict()
  .refine((f) => f.tokens.length + f.users.length > 0, 'must name at least one token or user');

export type AuthFile = z.infer<typeof authFileSchema>;

export class AuthConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthConfigError';
  }
}

/** Credentials as a request presents them; both kinds may be present. */
export interface PresentedCredentials {
  readonly token?: string;
  readonly username?: string;
  readonly password?: string;
}

export type AuthOutcome =
  | { readonly ok: true; readonly principal: string; readonly experiments: ReadonlySet<string> | undefined }
  | { readonly ok: false; readonly why: 'missing' | 'invalid' };

interface Grant {
  readonly principal: string;
  readonly experiments: ReadonlySet<string> | undefined;
}

const digest = (secret: string): Buffer => createHash('sha256').update(secret).digest();

const UNKNOWN_USER_PASSWORD = digest('\u0000 no such user');

function sameSecret(expected: Buffer, presented: string): boolean {
  return timingSafeEqual(expected, digest(presented));
}

export function credentialsOf(headers: IncomingHttpHeaders, query: URLSearchParams): PresentedCredentials {
  const header = headers.authorization?.trim() ?? '';
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header.toLowerCase() : header.slice(0, space).toLowerCase();
  const value = space === -1 ? '' : header.slice(space + 1).trim();
  if (scheme === 'token' || scheme === 'bearer') {
    const colon = value.indexOf(':');
    // InfluxDB 1.8 takes "Token user:password"; try it as a user as well as a token.
    return colon > 0 ? { token: value, username: value.slice(0, colon), password: value.slice(colon + 1) } : { token: value };
  }
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    return {};
  }
  const username = query.get('u') ?? undefined;
  const password = query.get('p') ?? undefined;
  return username !== undefined || password !== undefined ? { username: username ?? '', password: password ?? '' } : {};
}

export class Authenticator {
  private constructor(
    /** sha256 of each token → what it may do. */
    private readonly tokens: ReadonlyMap<string, Grant>,
    private readonly users: ReadonlyMap<string, Grant & { readonly password: Buffer }>,
    private readonly anonymous: boolean,
  ) {}

  /** Everyone may write anywhere (tests, a closed network). */
  static allowAnonymous(): Authenticator {
    return new Authenticator(new Map(), new Map(), true);
  }

  static fromConfig(config: AuthFile): Authenticator {
    const experiments = (list: string[] | undefined): ReadonlySet<string> | undefined => (list ? new Set(list) : undefined);
    const tokens = new Map<string, Grant>();
    config.tokens.forEach((t, i) => tokens.set(digest(t.token).toString('hex'), { principal: `token #${i + 1}`, experiments: experiments(t.experiments) }));
    const users = new Map<string, Grant & { password: Buffer }>();
    for (const u of config.users) {
      if (users.has(u.username)) throw new AuthConfigError(`user "${u.username}" is listed twice`);
      users.set(u.username, { principal: `user ${u.username}`, experiments: experiments(u.experiments), password: digest(u.password) });
    }
    return new Authenticator(tokens, users, false);
  }

  /** Reads and validates an auth file; its errors never quote a secret. */
  static fromFile(file: string): Authenticator {
    let doc: unknown;
    try {
      doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err instanceof SyntaxError ? 'not valid JSON' : String(err));
      throw new AuthConfigError(`cannot read the auth file ${file}: ${why}`);
    }
    const parsed = authFileSchema.safeParse(doc);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; ');
      throw new AuthConfigError(`invalid auth file ${file}: ${issues}`);
    }
    return Authenticator.fromConfig(parsed.data);
  }

  authenticate(presented: PresentedCredentials): AuthOutcome {
    if (presented.token !== undefined) {
      const grant = this.tokens.get(digest(presented.token).toString('hex'));
      if (grant) return { ok: true, ...grant };
    }
    if (presented.username !== undefined) {
      const user = this.users.get(presented.username);
      // Compare even for an unknown user, so the time taken does not tell which users exist.
      const matches = sameSecret(user?.password ?? UNKNOWN_USER_PASSWORD, presented.password ?? '');
      if (user && matches) return { ok: true, principal: user.principal, experiments: user.experiments };
    }
    if (this.anonymous) return { ok: true, principal: 'anonymous', experiments: undefined };
    return { ok: false, why: presented.token === undefined && presented.username === undefined ? 'missing' : 'invalid' };
  }
}

import type { Api } from './api';
import type { Role } from './models';

export interface Me {
  /** Firebase uid. */
  readonly uid: string;
  readonly role: Role;
  /** Staff id (users.user_id), when the API told us. */
  readonly id: string | undefined;
  readonly name: string | null;
  readonly email: string | null;
}

/** Optional API features, read from /openapi.json: the page works without them, with less. */
export interface Capabilities {
  readonly aggregate: boolean;
  readonly stream: boolean;
}

export interface ViewContext {
  readonly api: Api;
  readonly me: Me;
  readonly caps: Capabilities;
  /** Aborted when the person leaves the view: pending requests, streams and timers stop on it. */
  readonly signal: AbortSignal;
  /** Says `message` to screen readers (polite). */
  announce(message: string): void;
  /** Sets the document title and the view's h1. */
  title(text: string): HTMLHeadingElement;
  navigate(hash: string, opts?: { replace?: boolean }): void;
}

export type View = (root: HTMLElement, ctx: ViewContext) => void;

import { Api, ApiError } from './api';
import { AuthSession } from './auth';
import type { SignedIn, SignedOutReason } from './auth';
import { loadConfig } from './config';
import type { Capabilities, Me, View, ViewContext } from './context';
import { h, replace } from './dom';
import { list, obj, user } from './models';
import type { User } from './models';
import { ADMIN_SECTIONS, adminHref, parseRoute } from './router';
import type { Route } from './router';
import { errorState, isAbort, loadingState } from './states';
import { adminView } from './views/admin';
import { experimentView } from './views/experiment';
import { experimentsView } from './views/experiments';
import { signInView } from './views/sign-in';

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const account = document.getElementById('account') as HTMLElement;
const announcer = document.getElementById('announcer') as HTMLElement;

function announce(message: string): void {
  // Cleared first so the same message twice is still spoken.
  announcer.textContent = '';
  window.setTimeout(() => (announcer.textContent = message), 50);
}

interface Session {
  readonly api: Api;
  readonly me: Me;
  readonly caps: Capabilities;
}

const NO_CAPS: Capabilities = { aggregate: false, stream: false };

/** Which optional routes this API has (the aggregate and stream endpoints are newer than the rest). */
async function capabilities(api: Api): Promise<{ caps: Capabilities; me: boolean }> {
  try {
    const res = await fetch(api.url('/openapi.json'));
    if (!res.ok) return { caps: NO_CAPS, me: false };
    const paths = obj(obj((await res.json()) as unknown, 'openapi').paths, 'paths');
    return {
      caps: { aggregate: '/measures/{experiment_id}/aggregate' in paths, stream: '/measures/{experiment_id}/stream' in paths },
      me: '/me' in paths,
    };
  } catch {
    return { caps: NO_CAPS, me: false };
  }
}

/**
 * The signed-in person's role lives in the API's database, not in the token. GET /me answers it
 * when the API has it; otherwise GET /users/ tells an ADMIN (200) from a SCIENTIST (403).
 */
async function whoAmI(api: Api, signedIn: SignedIn, hasMe: boolean): Promise<Me> {
  const fromUser = (u: User): Me => ({ uid: signedIn.uid, role: u.role, id: u.user_id, name: u.name, email: u.email ?? signedIn.email });
  if (hasMe) return fromUser(await api.get('/me', user));
  try {
    const users = await api.get('/users/', (v) => list(v, 'users', user));
    const self = users.find((u) => u.username === signedIn.uid);
    return self ? fromUser(self) : { uid: signedIn.uid, role: 'ADMIN', id: undefined, name: null, email: signedIn.email };
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return { uid: signedIn.uid, role: 'SCIENTIST', id: undefined, name: null, email: signedIn.email };
    throw err;
  }
}

let session: Session | undefined;
let leaveView: AbortController | undefined;

function renderNav(route: Route | undefined): void {
  if (!session) {
    replace(nav);
    return;
  }
  const links: Array<[href: string, label: string, active: boolean]> =
    session.me.role === 'ADMIN'
      ? ADMIN_SECTIONS.map((s) => [adminHref(s.section), s.title, route?.name === 'admin' && route.section === s.section])
      : [['#/experiments', 'My experiments', route?.name === 'experiments' || route?.name === 'experiment' || route?.name === 'home']];
  replace(nav, h('ul', {}, ...links.map(([href, label, active]) => h('li', {}, h('a', { href, 'aria-current': active ? 'page' : undefined }, label)))));
}

function renderAccount(auth: AuthSession): void {
  if (!session) {
    replace(account);
    return;
  }
  const { me } = session;
  const signOut = h('button', { type: 'button', class: 'secondary' }, 'Sign out');
  signOut.addEventListener('click', () => {
    signOut.disabled = true;
    auth.signOut().catch(() => (signOut.disabled = false));
  });
  replace(
    account,
    auth.emulator ? h('span', { class: 'badge', title: 'Signed in through the Firebase Auth emulator' }, 'emulator') : null,
    h('span', { class: 'who' }, me.name ?? me.email ?? me.uid, ' · ', me.role === 'ADMIN' ? 'Administrator' : 'Scientist'),
    signOut,
  );
}

function viewFor(route: Route, me: Me): View {
  const forbidden: View = (root, ctx) => {
    replace(root, ctx.title('Administrators only'), errorState(new ApiError(403, 'Forbidden', 'These pages are for administrators. Your account is a scientist account.')));
  };
  switch (route.name) {
    case 'home':
      return (_root, ctx) => ctx.navigate(me.role === 'ADMIN' ? adminHref('users') : '#/experiments', { replace: true });
    case 'experiments':
      return experimentsView;
    case 'experiment':
      return (root, ctx) => experimentView(root, ctx, route.id, route.params);
    case 'admin':
      return me.role === 'ADMIN' ? (root, ctx) => adminView(root, ctx, route.section, route.params) : forbidden;
    case 'not-found':
      return (root, ctx) => replace(root, ctx.title('Page not found'), errorState(new Error(`There is no page at #${route.path}.`)));
  }
}

function route(): void {
  if (!session) return;
  const r = parseRoute(location.hash);
  if (!r) return;
  leaveView?.abort();
  const leave = new AbortController();
  leaveView = leave;
  renderNav(r);
  const { api, me, caps } = session;
  const ctx: ViewContext = {
    api,
    me,
    caps,
    signal: leave.signal,
    announce,
    title: (text) => {
      document.title = `${text} · MyMONIT`;
      return h('h1', { tabindex: -1 }, text);
    },
    navigate: (hash, opts) => {
      if (opts?.replace) {
        history.replaceState(null, '', hash);
        route();
      } else {
        location.hash = hash;
      }
    },
  };
  main.removeAttribute('aria-busy');
  replace(main);
  try {
    viewFor(r, me)(main, ctx);
  } catch (err) {
    replace(main, errorState(err));
  }
  // Focus the new view's heading so keyboard and screen-reader users start there, not on a stale link.
  main.querySelector('h1')?.focus();
}

async function start(): Promise<void> {
  const config = await loadConfig();
  const auth = new AuthSession(config);
  let signingIn = 0;
  auth.listen({
    signedIn: (u) => {
      const attempt = ++signingIn;
      replace(main, loadingState('Signing in…'));
      const api = new Api(config.apiBaseUrl, auth);
      void capabilities(api)
        .then(async ({ caps, me: hasMe }) => ({ caps, me: await whoAmI(api, u, hasMe) }))
        .then(({ caps, me }) => {
          if (attempt !== signingIn) return;
          session = { api, me, caps };
          renderAccount(auth);
          announce(`Signed in as ${me.name ?? me.email ?? me.uid}`);
          route();
          performance.mark('mymonit:signed-in');
        })
        .catch((err: unknown) => {
          if (attempt !== signingIn || isAbort(err)) return;
          replace(main, h('h1', {}, 'Could not sign in'), errorState(err, () => location.reload()));
        });
    },
    signedOut: (reason: SignedOutReason, detail?: string) => {
      signingIn++;
      leaveView?.abort();
      session = undefined;
      renderNav(undefined);
      renderAccount(auth);
      main.removeAttribute('aria-busy');
      signInView(main, auth, reason, detail);
      if (reason !== 'start') announce(reason === 'expired' ? 'Your session has expired.' : 'Signed out.');
      performance.mark('mymonit:sign-in-ready');
    },
  });
  window.addEventListener('hashchange', route);
  document.querySelector('.skip-link')?.addEventListener('click', (event) => {
    event.preventDefault();
    main.focus();
  });
}

start().catch((err: unknown) => {
  main.removeAttribute('aria-busy');
  replace(main, h('h1', {}, 'MyMONIT could not start'), errorState(err, () => location.reload()));
});

import { obj, str } from './models';

/**
 * Runtime settings, read from config.json beside index.html: one build serves every environment.
 * In dev the API serves it (emulator settings); nginx serves a deployed file (web/config.example.json).
 */
export interface RuntimeConfig {
  readonly firebase: { readonly apiKey: string; readonly authDomain: string; readonly projectId: string };
  /** e.g. http://127.0.0.1:9099; set only in dev and tests. */
  readonly authEmulatorUrl: string | undefined;
  /** Prefix of the API's paths: '' when the API serves the page, e.g. '/api' behind a proxy. */
  readonly apiBaseUrl: string;
}

export async function loadConfig(): Promise<RuntimeConfig> {
  const res = await fetch('config.json', { cache: 'no-cache' });
  if (!res.ok) throw new Error(`The page's configuration (config.json) could not be loaded: ${res.status}.`);
  const o = obj((await res.json()) as unknown, 'config.json');
  const fb = obj(o.firebase, 'config.json firebase');
  const emulator = o.authEmulatorUrl;
  const base = o.apiBaseUrl;
  return {
    firebase: {
      apiKey: str(fb, 'apiKey'),
      projectId: str(fb, 'projectId'),
      authDomain: typeof fb.authDomain === 'string' ? fb.authDomain : `${str(fb, 'projectId')}.firebaseapp.com`,
    },
    authEmulatorUrl: typeof emulator === 'string' && emulator !== '' ? emulator : undefined,
    apiBaseUrl: typeof base === 'string' ? base.replace(/\/+$/, '') : '',
  };
}

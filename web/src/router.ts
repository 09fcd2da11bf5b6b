/**
 * Hash routes (#/experiments/3?last=1h): the page is one static index.html, and the API owns every
 * real path (/experiments, /users, …), so client routes must never collide with them.
 */

export type AdminSection = 'users' | 'experiments' | 'measure-types' | 'rejections' | 'audit';

export const ADMIN_SECTIONS: ReadonlyArray<{ readonly section: AdminSection; readonly title: string }> = [
  { section: 'users', title: 'Users' },
  { section: 'experiments', title: 'Experiments & access' },
  { section: 'measure-types', title: 'Measure types' },
  { section: 'rejections', title: 'Rejected messages' },
  { section: 'audit', title: 'Audit trail' },
];

export type Route =
  | { readonly name: 'home' }
  | { readonly name: 'experiments' }
  | { readonly name: 'experiment'; readonly id: number; readonly params: URLSearchParams }
  | { readonly name: 'admin'; readonly section: AdminSection; readonly params: URLSearchParams }
  | { readonly name: 'not-found'; readonly path: string };

/** undefined for hashes that are not routes (e.g. #main of the skip link). */
export function parseRoute(hash: string): Route | undefined {
  if (hash === '' || hash === '#' || hash === '#/') return { name: 'home' };
  if (!hash.startsWith('#/')) return undefined;
  const [path = '', qs = ''] = hash.slice(1).split('?', 2);
  const params = new URLSearchParams(qs);
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 1 && parts[0] === 'experiments') return { name: 'experiments' };
  if (parts.length === 2 && parts[0] === 'experiments' && /^[1-9]\d{0,9}$/.test(parts[1] ?? '')) {
    return { name: 'experiment', id: Number(parts[1]), params };
  }
  if (parts.length === 2 && parts[0] === 'admin') {
    const found = ADMIN_SECTIONS.find((s) => s.section === parts[1]);
    if (found) return { name: 'admin', section: found.section, params };
  }
  return { name: 'not-found', path };
}

export function experimentHref(id: number, params?: URLSearchParams): string {
  const qs = params?.toString();
  return `#/experiments/${id}${qs ? `?${qs}` : ''}`;
}

export function adminHref(section: AdminSection): string {
  return `#/admin/${section}`;
}

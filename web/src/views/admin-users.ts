import type { ViewContext } from '../context';
import { field, h, replace } from '../dom';
import { confirmDialog, formDialog, formStatus, input, onSubmit, select } from '../forms';
import { list, user } from '../models';
import type { User } from '../models';
import { emptyState, errorState, isAbort, loadingState } from '../states';
import { table } from './admin';

const ROLES = [
  ['SCIENTIST', 'Scientist'],
  ['ADMIN', 'Administrator'],
] as const;

/** Users: create, edit, erase (GDPR, with confirmation). */
export function usersView(root: HTMLElement, ctx: ViewContext): void {
  const listEl = h('div', {});
  const done = h('div', { role: 'status' });

  const id = input('user_id', { required: true, autocomplete: 'off', pattern: '[A-Za-z0-9_-]{1,32}' });
  const name = input('name', { required: true, autocomplete: 'off' });
  const email = input('email', { type: 'email', required: true, autocomplete: 'off' });
  const username = input('username', { required: true, autocomplete: 'off', spellcheck: 'false' });
  const role = select('role', ROLES, 'SCIENTIST');
  const status = formStatus();
  const form = h(
    'form',
    { novalidate: true, 'aria-labelledby': 'new-user-title' },
    h(
      'div',
      { class: 'form-row' },
      field('Staff id', id, 'e.g. S003'),
      field('Name', name),
      field('E-mail', email),
      field('Firebase uid', username, 'The uid of their Firebase account'),
      field('Role', role),
      h('button', { type: 'submit' }, 'Add user'),
    ),
    status,
  );
  onSubmit(form, status, async () => {
    const created = await ctx.api.json('POST', '/users/', user, {
      body: { user_id: id.value.trim(), name: name.value, email: email.value, username: username.value.trim(), role: role.value },
      signal: ctx.signal,
    });
    form.reset();
    replace(done, h('p', { class: 'state' }, `User ${created.user_id} (${created.name ?? ''}) added.`));
    load();
    id.focus();
  });

  const edit = (u: User): void => {
    const n = input('name', { value: u.name ?? '', required: true });
    const e = input('email', { type: 'email', value: u.email ?? '', required: true });
    const un = input('username', { value: u.username ?? '', required: true, spellcheck: 'false' });
    formDialog(`Edit ${u.user_id}`, [field('Name', n), field('E-mail', e), field('Firebase uid', un)], 'Save', async () => {
      await ctx.api.json('PUT', `/users/${encodeURIComponent(u.user_id)}`, user, {
        body: { name: n.value, email: e.value, username: un.value.trim() },
        signal: ctx.signal,
      });
      replace(done, h('p', { class: 'state' }, `User ${u.user_id} saved.`));
      load();
    });
  };

  const erase = async (u: User): Promise<void> => {
    const ok = await confirmDialog(
      `Delete ${u.user_id}?`,
      `${u.name ?? u.user_id}'s name, e-mail and sign-in are erased and their experiment access removed. Audit records keep the id. This cannot be undone.`,
      'Delete user',
    );
    if (!ok) return;
    try {
      await ctx.api.call('DELETE', `/users/${encodeURIComponent(u.user_id)}`, { signal: ctx.signal });
      replace(done, h('p', { class: 'state' }, `User ${u.user_id} deleted.`));
      load();
    } catch (err) {
      if (!isAbort(err)) replace(done, errorState(err));
    }
  };

  const load = (): void => {
    replace(listEl, loadingState('Loading users…'));
    ctx.api
      .get('/users/', (v) => list(v, 'users', user), { signal: ctx.signal })
      .then((users) => {
        if (users.length === 0) {
          replace(listEl, emptyState('No users yet.'));
          return;
        }
        replace(
          listEl,
          table(
            'Users',
            [
              { header: 'Staff id', cell: (u) => u.user_id },
              { header: 'Name', cell: (u) => u.name ?? '—' },
              { header: 'E-mail', cell: (u) => u.email ?? '—' },
              { header: 'Firebase uid', cell: (u) => h('span', { class: 'mono' }, u.username ?? '—') },
              { header: 'Role', cell: (u) => (u.role === 'ADMIN' ? 'Administrator' : 'Scientist') },
              {
                header: 'Actions',
                cell: (u) =>
                  h(
                    'span',
                    { class: 'actions' },
                    h('button', { type: 'button', class: 'secondary', 'aria-label': `Edit ${u.user_id}`, onclick: () => edit(u) }, 'Edit'),
                    ' ',
                    h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${u.user_id}`, onclick: () => void erase(u) }, 'Delete'),
                  ),
              },
            ],
            users,
            (u) => ({ 'data-user-id': u.user_id }),
          ),
        );
      })
      .catch((err: unknown) => {
        if (!isAbort(err)) replace(listEl, errorState(err, load));
      });
  };

  replace(root, h('section', { class: 'panel' }, h('h2', { id: 'new-user-title' }, 'Add a user'), form), done, listEl);
  load();
}

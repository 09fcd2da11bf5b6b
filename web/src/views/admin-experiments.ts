import type { ViewContext } from '../context';
import { field, h, replace, uid } from '../dom';
import { confirmDialog, formDialog, formStatus, input, onSubmit } from '../forms';
import { associations, experiment, list, user } from '../models';
import type { Associations, Experiment, User } from '../models';
import { emptyState, errorState, isAbort, loadingState } from '../states';
import { table } from './admin';

/** Experiments (create, rename) and which scientists may read each (add, remove). */
export function experimentsAdminView(root: HTMLElement, ctx: ViewContext): void {
  const listEl = h('div', {});
  const done = h('div', { role: 'status' });
  const say = (text: string): void => replace(done, h('p', { class: 'state' }, text));

  const name = input('name', { required: true, autocomplete: 'off' });
  const status = formStatus();
  const form = h(
    'form',
    { novalidate: true, 'aria-labelledby': 'new-experiment-title' },
    h('div', { class: 'form-row' }, field('Name', name, 'e.g. device-vibrations'), h('button', { type: 'submit' }, 'Create experiment')),
    status,
  );
  onSubmit(form, status, async () => {
    const created = await ctx.api.json('POST', '/experiments/', experiment, { body: { name: name.value }, signal: ctx.signal });
    form.reset();
    say(`Experiment ${created.name} created.`);
    load();
  });

  const rename = (e: Experiment): void => {
    const n = input('name', { value: e.name, required: true });
    formDialog(`Rename ${e.name}`, [field('New name', n)], 'Rename', async () => {
      const renamed = await ctx.api.json('PUT', `/experiments/${e.experiment_id}`, experiment, { body: { name: n.value }, signal: ctx.signal });
      say(`Experiment renamed to ${renamed.name}.`);
      load();
    });
  };

  const remove = async (e: Experiment, s: User): Promise<void> => {
    const who = s.name ?? s.user_id;
    if (!(await confirmDialog(`Remove ${who}?`, `${who} will no longer see ${e.name} or its measures.`, 'Remove access'))) return;
    try {
      await ctx.api.call('DELETE', `/scientists-experiments/${e.experiment_id}/${encodeURIComponent(s.user_id)}`, { signal: ctx.signal });
      say(`${who} removed from ${e.name}.`);
      load();
    } catch (err) {
      if (!isAbort(err)) replace(done, errorState(err));
    }
  };

  const scientistsCell = (e: Experiment, assoc: Associations, scientists: readonly User[]): HTMLElement => {
    const members = assoc.get(e.experiment_id)?.users ?? [];
    const candidates = scientists.filter((s) => !members.some((m) => m.user_id === s.user_id));
    const choose = h(
      'select',
      { name: 'scientist', id: uid('scientist') },
      h('option', { value: '' }, 'Choose a scientist…'),
      ...candidates.map((s) => h('option', { value: s.user_id }, `${s.name ?? s.user_id} (${s.user_id})`)),
    );
    const addStatus = formStatus();
    const add = h(
      'form',
      { class: 'form-row', novalidate: true },
      h('label', { class: 'visually-hidden', for: choose.id }, `Scientist to add to ${e.name}`),
      choose,
      h('button', { type: 'submit', class: 'secondary', disabled: candidates.length === 0 }, 'Add'),
      addStatus,
    );
    onSubmit(add, addStatus, async () => {
      if (choose.value === '') throw new Error('Choose a scientist first.');
      await ctx.api.call('POST', `/scientists-experiments/${e.experiment_id}/${encodeURIComponent(choose.value)}`, { signal: ctx.signal });
      say(`${choose.selectedOptions[0]?.textContent ?? choose.value} can now read ${e.name}.`);
      load();
    });
    return h(
      'div',
      {},
      members.length === 0
        ? h('p', { class: 'hint' }, 'No scientist yet.')
        : h(
            'ul',
            { class: 'members', 'aria-label': `Scientists of ${e.name}` },
            ...members.map((m) =>
              h(
                'li',
                { 'data-user-id': m.user_id },
                `${m.name ?? m.user_id} (${m.user_id}) `,
                h('button', { type: 'button', class: 'link', 'aria-label': `Remove ${m.name ?? m.user_id} from ${e.name}`, onclick: () => void remove(e, m) }, 'Remove'),
              ),
            ),
          ),
      add,
    );
  };

  const load = (): void => {
    replace(listEl, loadingState('Loading experiments…'));
    Promise.all([
      ctx.api.get('/experiments/', (v) => list(v, 'experiments', experiment), { signal: ctx.signal }),
      ctx.api.get('/scientists-experiments/', associations, { signal: ctx.signal }),
      ctx.api.get('/users/', (v) => list(v, 'users', user), { signal: ctx.signal }),
    ])
      .then(([experiments, assoc, users]) => {
        if (experiments.length === 0) {
          replace(listEl, emptyState('No experiments yet. Create the first one above.'));
          return;
        }
        const scientists = users.filter((u) => u.role === 'SCIENTIST');
        const sorted = [...experiments].sort((a, b) => a.name.localeCompare(b.name));
        replace(
          listEl,
          table(
            'Experiments',
            [
              { header: 'Experiment', cell: (e) => h('span', {}, h('strong', {}, e.name), h('br', {}), h('span', { class: 'hint' }, `#${e.experiment_id}`)) },
              { header: 'Scientists with access', cell: (e) => scientistsCell(e, assoc, scientists) },
              { header: 'Actions', cell: (e) => h('button', { type: 'button', class: 'secondary', 'aria-label': `Rename ${e.name}`, onclick: () => rename(e) }, 'Rename') },
            ],
            sorted,
            (e) => ({ 'data-experiment': e.name }),
          ),
        );
      })
      .catch((err: unknown) => {
        if (!isAbort(err)) replace(listEl, errorState(err, load));
      });
  };

  replace(root, h('section', { class: 'panel' }, h('h2', { id: 'new-experiment-title' }, 'Create an experiment'), form), done, listEl);
  load();
}

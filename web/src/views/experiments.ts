import type { View } from '../context';
import { h, replace } from '../dom';
import { experiment, list } from '../models';
import { experimentHref } from '../router';
import { emptyState, errorState, isAbort, loadingState } from '../states';

/** A scientist's experiments (an ADMIN sees every experiment). */
export const experimentsView: View = (root, ctx) => {
  const body = h('div', { 'aria-live': 'polite' });
  replace(root, ctx.title('My experiments'), body);
  const load = (): void => {
    replace(body, loadingState('Loading your experiments…'));
    ctx.api
      .get('/experiments/', (v) => list(v, 'experiments', experiment), { signal: ctx.signal })
      .then((experiments) => {
        if (experiments.length === 0) {
          replace(body, emptyState('You have no experiments yet. Ask an administrator to give you access to one.'));
          return;
        }
        const sorted = [...experiments].sort((a, b) => a.name.localeCompare(b.name));
        replace(
          body,
          h(
            'ul',
            { class: 'cards', 'aria-label': 'Experiments' },
            ...sorted.map((e) => h('li', {}, h('a', { href: experimentHref(e.experiment_id) }, e.name, h('span', { class: 'sub' }, `Experiment #${e.experiment_id}`)))),
          ),
        );
      })
      .catch((err: unknown) => {
        if (!isAbort(err)) replace(body, errorState(err, load));
      });
  };
  load();
};

import type { ViewContext } from '../context';
import { field, h, replace } from '../dom';
import { formStatus, input, onSubmit } from '../forms';
import { list, measureType } from '../models';
import { emptyState, errorState, isAbort, loadingState } from '../states';
import { table } from './admin';

/** Measure types (units): list and add. */
export function measureTypesView(root: HTMLElement, ctx: ViewContext): void {
  const listEl = h('div', {});
  const done = h('div', { role: 'status' });
  const name = input('name', { required: true, autocomplete: 'off' });
  const symbol = input('symbol', { required: true, autocomplete: 'off', size: 8 });
  const quantity = input('quantity', { required: true, autocomplete: 'off' });
  const status = formStatus();
  const form = h(
    'form',
    { novalidate: true, 'aria-labelledby': 'new-type-title' },
    h('div', { class: 'form-row' }, field('Name', name, 'e.g. hertz'), field('Symbol', symbol, 'e.g. Hz'), field('Quantity', quantity, 'e.g. frequency'), h('button', { type: 'submit' }, 'Add measure type')),
    status,
  );
  onSubmit(form, status, async () => {
    const created = await ctx.api.json('POST', '/measure-types/', measureType, {
      body: { name: name.value, symbol: symbol.value, quantity: quantity.value },
      signal: ctx.signal,
    });
    form.reset();
    replace(done, h('p', { class: 'state' }, `Measure type ${created.name} added.`));
    load();
  });

  const load = (): void => {
    replace(listEl, loadingState('Loading measure types…'));
    ctx.api
      .get('/measure-types/', (v) => list(v, 'measure types', measureType), { signal: ctx.signal })
      .then((types) => {
        replace(
          listEl,
          types.length === 0
            ? emptyState('No measure types yet.')
            : table(
                'Measure types',
                [
                  { header: 'Name', cell: (t) => t.name },
                  { header: 'Symbol', cell: (t) => t.symbol },
                  { header: 'Quantity', cell: (t) => t.quantity },
                ],
                [...types].sort((a, b) => a.name.localeCompare(b.name)),
              ),
        );
      })
      .catch((err: unknown) => {
        if (!isAbort(err)) replace(listEl, errorState(err, load));
      });
  };

  replace(root, h('section', { class: 'panel' }, h('h2', { id: 'new-type-title' }, 'Add a measure type'), form), done, listEl);
  load();
}

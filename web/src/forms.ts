import { ApiError } from './api';
import { h, replace, uid } from './dom';
import { errorState, isAbort } from './states';

function clearErrors(form: HTMLFormElement): void {
  for (const el of form.querySelectorAll('.field-error')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    const describedBy = (el.getAttribute('aria-describedby') ?? '').split(' ').filter((id) => !id.endsWith('-error'));
    if (describedBy.length) el.setAttribute('aria-describedby', describedBy.join(' '));
    else el.removeAttribute('aria-describedby');
  }
}

/** Marks the controls named in the problem's `errors`; returns whether any was found. */
function markFields(form: HTMLFormElement, err: ApiError): boolean {
  let marked = false;
  for (const e of err.errors) {
    const control = form.elements.namedItem(e.field);
    if (!(control instanceof HTMLInputElement || control instanceof HTMLSelectElement || control instanceof HTMLTextAreaElement)) continue;
    const id = `${control.id}-error`;
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-describedby', [control.getAttribute('aria-describedby'), id].filter(Boolean).join(' '));
    control.insertAdjacentElement('afterend', h('p', { class: 'field-error', id }, e.message));
    if (!marked) control.focus();
    marked = true;
  }
  return marked;
}

/**
 * Submits `form` through `action`: buttons disabled while it runs, the API's detail shown in the
 * form's status box and each invalid field marked on failure.
 */
export function onSubmit(form: HTMLFormElement, status: HTMLElement, action: () => Promise<void>): void {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const buttons = [...form.querySelectorAll('button')];
    for (const b of buttons) b.disabled = true;
    clearErrors(form);
    replace(status);
    action()
      .catch((err: unknown) => {
        if (isAbort(err)) return;
        replace(status, errorState(err));
        if (!(err instanceof ApiError && markFields(form, err))) status.focus();
      })
      .finally(() => {
        for (const b of buttons) b.disabled = false;
      });
  });
}

export function formStatus(): HTMLDivElement {
  return h('div', { class: 'form-status', tabindex: -1 });
}

export function input(name: string, attrs: Record<string, string | number | boolean | undefined> = {}): HTMLInputElement {
  return h('input', { name, type: 'text', ...attrs });
}

export function select(name: string, options: ReadonlyArray<readonly [value: string, label: string]>, selected?: string): HTMLSelectElement {
  return h('select', { name }, ...options.map(([value, label]) => h('option', { value, selected: value === selected }, label)));
}

/** A modal confirmation (native <dialog>: focus trapped, Esc cancels). Resolves true on confirm. */
export function confirmDialog(title: string, message: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-message' },
      h('h2', { id: 'confirm-title' }, title),
      h('p', { id: 'confirm-message' }, message),
      h(
        'form',
        { method: 'dialog', class: 'buttons' },
        h('button', { type: 'submit', value: 'cancel', class: 'secondary', autofocus: true }, 'Cancel'),
        h('button', { type: 'submit', value: 'confirm', class: 'danger' }, confirmLabel),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'confirm');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A modal form (native <dialog>); closes when `action` succeeds, shows the API's detail when not. */
export function formDialog(title: string, controls: readonly HTMLElement[], submitLabel: string, action: () => Promise<void>): void {
  const titleId = uid('dialog');
  const status = formStatus();
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const form = h('form', { novalidate: true }, ...controls, status, h('div', { class: 'buttons' }, cancel, h('button', { type: 'submit' }, submitLabel)));
  const dialog = h('dialog', { 'aria-labelledby': titleId }, h('h2', { id: titleId }, title), form);
  cancel.addEventListener('click', () => dialog.close());
  onSubmit(form, status, async () => {
    await action();
    dialog.close();
  });
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

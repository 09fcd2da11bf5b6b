import type { AuthSession, SignedOutReason } from '../auth';
import { field, h, replace } from '../dom';
import { formStatus, input, onSubmit } from '../forms';
import { noticeState } from '../states';

const REASONS: Record<SignedOutReason, string | undefined> = {
  start: undefined,
  'signed-out': 'You have signed out.',
  expired: 'Your session has expired. Please sign in again.',
};

export function signInView(root: HTMLElement, auth: AuthSession, reason: SignedOutReason, detail?: string): void {
  document.title = 'Sign in · MyMONIT';
  const email = input('email', { type: 'email', autocomplete: 'username', required: true, spellcheck: 'false' });
  const password = input('password', { type: 'password', autocomplete: 'current-password', required: true });
  const status = formStatus();
  const form = h(
    'form',
    { novalidate: true, 'aria-labelledby': 'signin-title' },
    field('E-mail', email),
    field('Password', password),
    status,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  onSubmit(form, status, async () => {
    await auth.signIn(email.value.trim(), password.value);
  });
  const notice = REASONS[reason];
  replace(
    root,
    h(
      'div',
      { class: 'signin' },
      h('h1', { id: 'signin-title', tabindex: -1 }, 'Sign in to MyMONIT'),
      notice ? noticeState(detail && reason === 'expired' ? `${notice} (${detail})` : notice) : null,
      form,
      auth.emulator ? h('p', { class: 'hint' }, 'Development sign-in (Firebase Auth emulator): use a demo account printed by npm run demo.') : null,
    ),
  );
  email.focus();
}

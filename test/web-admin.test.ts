import type { Browser } from 'playwright-core';
import { startApi } from './support/api-harness';
import type { ApiHarness, TestUser } from './support/api-harness';
import { buildWebPage, controlTops, expectNoA11yViolations, launchBrowser, openPage, screenshot, signIn } from './support/browser';
import type { WebBuild } from './support/browser';

/**
 * An administrator in a real browser: experiments and access, users, measure types, rejected
 * messages and the audit trail; what the admin grants, the scientist then sees.
 */

let api: ApiHarness;
let web: WebBuild;
let browser: Browser;
let admin: TestUser;
let scientist: TestUser;

beforeAll(async () => {
  // First: without Chromium nothing else is worth starting.
  browser = await launchBrowser();
  web = await buildWebPage();
  api = await startApi('web_admin', { API_WEB_DIR: web.dir });
  admin = await api.user('ADMIN');
  scientist = await api.user('SCIENTIST');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await web?.remove();
});

test('an admin creates an experiment, renames it and gives a scientist access; the scientist then sees it', async () => {
  const name = `e2e-created-${process.pid}`;
  const renamed = `${name}-renamed`;
  const { page, context, problems } = await openPage(browser);
  try {
    await page.goto(api.baseUrl);
    await signIn(page, admin.email, admin.password);
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await page.locator('tr[data-user-id]').first().waitFor();
    await expectNoA11yViolations(page, 'admin: users');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Experiments & access' }).click();
    await page.getByRole('heading', { name: 'Experiments & access', level: 1 }).waitFor();

    await page.getByLabel('Name').fill(name);
    await page.getByRole('button', { name: 'Create experiment' }).click();
    const row = page.locator(`tr[data-experiment="${name}"]`);
    await row.waitFor();
    await expect(page.getByRole('status').filter({ hasText: `Experiment ${name} created.` }).count()).resolves.toBe(1);

    await row.getByLabel(`Scientist to add to ${name}`).selectOption(scientist.id);
    await row.getByRole('button', { name: 'Add', exact: true }).click();
    await page.locator(`tr[data-experiment="${name}"] li[data-user-id="${scientist.id}"]`).waitFor();

    await page.getByRole('button', { name: `Rename ${name}` }).click();
    const dialog = page.getByRole('dialog', { name: `Rename ${name}` });
    await dialog.waitFor();
    await expectNoA11yViolations(page, 'admin: rename experiment dialog');
    await dialog.getByLabel('New name').fill(renamed);
    await dialog.getByRole('button', { name: 'Rename' }).click();
    await page.locator(`tr[data-experiment="${renamed}"] li[data-user-id="${scientist.id}"]`).waitFor();
    await screenshot(page, 'admin-01-experiments');
    await expectNoA11yViolations(page, 'admin: experiments & access, with an association');
    expect(problems).toEqual([]);
  } finally {
    await context.close();
  }

  const other = await openPage(browser, { width: 820, height: 1180 });
  try {
    await other.page.goto(api.baseUrl);
    await signIn(other.page, scientist.email, scientist.password);
    await other.page.getByRole('link', { name: new RegExp(renamed) }).waitFor();
    await screenshot(other.page, 'admin-02-scientist-sees-new-experiment');
    await expectNoA11yViolations(other.page, 'experiment list at tablet width (820×1180)');
    expect(other.problems).toEqual([]);
  } finally {
    await other.context.close();
  }
});

test('an admin adds, edits and deletes a user; the API problem detail is shown on bad input', async () => {
  const id = `S${process.pid % 100000}`;
  const { page, context, problems } = await openPage(browser);
  try {
    await page.goto(api.baseUrl);
    await signIn(page, admin.email, admin.password);
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    // The new-user form's inputs stand level in their row, whether or not a hint or an error sits under one.
    const inputTops = (): Promise<Set<number>> => controlTops(page, ['Staff id', 'Name', 'E-mail', 'Firebase uid', 'Role']);
    expect((await inputTops()).size).toBe(1);

    await page.getByLabel('Staff id').fill(id);
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('E-mail').fill('not-an-e-mail');
    await page.getByLabel('Firebase uid').fill(`uid-${id}`);
    await page.getByRole('button', { name: 'Add user' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toMatch(/email: must be an e-mail address/);
    await expect(page.getByLabel('E-mail').getAttribute('aria-invalid')).resolves.toBe('true');
    expect((await inputTops()).size).toBe(1);
    await screenshot(page, 'admin-03-user-invalid');
    await expectNoA11yViolations(page, 'admin: users, form with an invalid field');

    await page.getByLabel('E-mail').fill('ada@home.cern');
    await page.getByRole('button', { name: 'Add user' }).click();
    const row = page.locator(`tr[data-user-id="${id}"]`);
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('ada@home.cern');

    await page.getByRole('button', { name: `Edit ${id}` }).click();
    const dialog = page.getByRole('dialog', { name: `Edit ${id}` });
    await dialog.waitFor();
    await expectNoA11yViolations(page, 'admin: edit user dialog');
    await dialog.getByLabel('Name').fill('Ada King');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.locator(`tr[data-user-id="${id}"]`, { hasText: 'Ada King' }).waitFor();

    // Cancel leaves the user; confirming deletes it.
    await page.getByRole('button', { name: `Delete ${id}` }).click();
    const confirm = page.getByRole('dialog', { name: `Delete ${id}?` });
    await confirm.waitFor();
    await screenshot(page, 'admin-04-user-delete-confirm');
    await expectNoA11yViolations(page, 'admin: delete user confirmation');
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'detached' });
    await expect(row.count()).resolves.toBe(1);
    await page.getByRole('button', { name: `Delete ${id}` }).click();
    await page.getByRole('dialog', { name: `Delete ${id}?` }).getByRole('button', { name: 'Delete user' }).click();
    await row.waitFor({ state: 'detached' });
    await expect(page.getByRole('status').filter({ hasText: `User ${id} deleted.` }).count()).resolves.toBe(1);
    expect(problems).toEqual([]);
  } finally {
    await context.close();
  }
});

test('an admin reads measure types, rejected messages (raw payload as text) and the filtered audit trail', async () => {
  const payload = '{"experiment": "<img src=x onerror=alert(1)>", "value": "NaN"}';
  await api.db.pool.query('INSERT INTO rejected_measures (reason, detail, message_id, raw) VALUES (?, ?, ?, ?), (?, ?, ?, ?)', [
    'unknown_experiment',
    'no experiment named <img src=x onerror=alert(1)>',
    'm-1',
    payload,
    'invalid_json',
    'Unexpected token',
    null,
    '{not json',
  ]);
  const { page, context, problems } = await openPage(browser);
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  try {
    await page.goto(api.baseUrl);
    await signIn(page, admin.email, admin.password);

    await page.getByRole('link', { name: 'Measure types' }).click();
    await page.getByRole('cell', { name: 'hertz', exact: true }).waitFor();
    // The button beside the labelled fields stands level with their inputs, not with their labels.
    const inputBox = await page.getByLabel('Name').boundingBox();
    const buttonBox = await page.getByRole('button', { name: 'Add measure type' }).boundingBox();
    expect(Math.abs((buttonBox?.y ?? NaN) - (inputBox?.y ?? NaN))).toBeLessThanOrEqual(1);
    await page.getByLabel('Name').fill('e2e-unit');
    await page.getByLabel('Symbol').fill('eU');
    await page.getByLabel('Quantity').fill('testing');
    await page.getByRole('button', { name: 'Add measure type' }).click();
    await page.getByRole('cell', { name: 'e2e-unit', exact: true }).waitFor();
    await expectNoA11yViolations(page, 'admin: measure types');

    await page.getByRole('link', { name: 'Rejected messages' }).click();
    await page.getByRole('cell', { name: 'unknown_experiment' }).waitFor();
    await page.getByLabel('Reason').selectOption('invalid_json');
    await page.getByRole('cell', { name: 'unknown_experiment' }).waitFor({ state: 'detached' });
    await page.getByLabel('Reason').selectOption('');
    const row = page.locator('tr', { has: page.getByRole('cell', { name: 'unknown_experiment' }) });
    await row.getByText(/^Show \(62 characters\)$/).click();
    await row.getByText(payload, { exact: true }).waitFor();
    expect(await page.locator('main img').count()).toBe(0);
    await screenshot(page, 'admin-05-rejections');
    await expectNoA11yViolations(page, 'admin: rejected messages, a payload shown');

    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.getByLabel('Action').fill('measure_type.create');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator('td', { hasText: 'measure_type.create' }).first().waitFor();
    const actions = await page.locator('tbody tr td:nth-child(3)').allTextContents();
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions)).toEqual(new Set(['measure_type.create']));
    await screenshot(page, 'admin-06-audit');
    await expectNoA11yViolations(page, 'admin: audit trail, filtered');
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
  } finally {
    await context.close();
  }
});

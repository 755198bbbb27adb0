import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import {
  expectHealthyPage,
  fullyVisibleAcross,
  login,
  onOneLine,
  openVisitor,
  rowsLabelled,
  useMenu,
  type Visitor,
} from './helpers/audit.js';
import { launchChromium, VIEWPORTS } from './helpers/browser.js';
import { startBrowserStack, type BrowserStack } from './helpers/stack.js';

const NNBSP = '\u202f';
const NBSP = '\u00a0';
const PASSWORD = 'motdepasse-solide';
const LABEL = 'Loyer d’octobre';
/** The green of positive amounts (--c-pos). */
const POSITIVE_GREEN = 'rgb(6, 118, 71)';

/** "14:05" in Paris for an ISO instant, computed here independently of the app. */
function parisTime(iso: string): string {
  return new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(
    new Date(iso),
  );
}

for (const viewport of VIEWPORTS) {
  describe(`customer journey at ${viewport.label} px`, function () {
    let stack: BrowserStack;
    let browser: Browser;
    let me: Visitor;
    // 12 characters: the length that used to push the header onto two rows at 1280 px.
    const username = `cl${viewport.label}_${randomBytes(3).toString('hex')}`.slice(0, 12);
    let primary = '';
    let usd = '';

    before(async () => {
      stack = await startBrowserStack();
      browser = await launchChromium();
      me = await openVisitor(browser, viewport, 'journey');
    });
    after(async () => {
      await browser?.close();
      await stack?.close();
    });

    it('registers and is sent to the login page with a confirmation', async () => {
      const { page } = me;
      await page.goto(`${stack.baseUrl}/register`);
      await expectHealthyPage(me, 'register');
      await page.getByLabel('Nom d’utilisateur').fill(username);
      await page.getByLabel('Mot de passe').fill(PASSWORD);
      await Promise.all([page.waitForURL('**/login'), page.getByRole('button', { name: 'Créer mon compte' }).click()]);
      expect(await page.getByRole('status').textContent()).to.contain('Compte créé');
      await expectHealthyPage(me, 'registered');
    });

    it('logs in to a dashboard with a zero balance that is not shown as a gain', async () => {
      const { page } = me;
      await login(me, stack.baseUrl, username, PASSWORD);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal(`Bonjour ${username}`);
      expect(await page.locator('.balance-value').textContent()).to.equal(`0,00${NBSP}€`);
      const balance = page.locator('.account-balance .amount').first();
      expect(await balance.textContent()).to.equal(`0,00${NBSP}€`);
      expect(await balance.evaluate((el) => getComputedStyle(el).color)).to.not.equal(POSITIVE_GREEN);
      primary = (await page.locator('.account-list .account-number').first().textContent())?.trim() ?? '';
      expect(primary).to.match(/^FT\d{10}$/);
      await expectHealthyPage(me, 'dashboard-new');
    });

    it('opens a USD account from the menu, lands on a one-time confirmation, and a reload opens nothing more', async () => {
      const { page } = me;
      await useMenu(me, 'Ouvrir un compte', true);
      await expectHealthyPage(me, 'create-account');
      await page.getByLabel('Devise').selectOption('USD');
      await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.status() === 303),
        page.getByRole('button', { name: 'Ouvrir le compte' }).click(),
      ]);
      await page.waitForURL('**/create_account');
      const created = page.getByRole('status').filter({ hasText: 'Compte USD ouvert.' });
      usd = (await created.locator('code').textContent()) ?? '';
      expect(usd).to.match(/^FT\d{10}$/);
      expect(await page.locator('.account-list').innerText())
        .to.contain(usd)
        .and.contain(`0,00${NBSP}$US`);
      await expectHealthyPage(me, 'usd-account-opened');
      await page.reload();
      expect(await created.count(), 'the confirmation is shown once').to.equal(0);
      expect(await page.locator('.account-list .account-item').count(), 'a reload does not post again').to.equal(2);
      await expectHealthyPage(me, 'usd-account-reloaded');
    });

    it('shows money received in French amounts and Paris time with the zone', async () => {
      const { page } = me;
      await stack.deposit(primary, '1000.00', 'Virement de bienvenue');
      await stack.deposit(usd, '1250.50', 'Dépôt en dollars');
      await page.goto(`${stack.baseUrl}/dashboard`);
      expect(await page.locator('.balance-value').textContent()).to.equal(`1${NNBSP}000,00${NBSP}€`);
      expect(await page.locator('.account-list').innerText()).to.contain(`1${NNBSP}250,50${NBSP}$US`);
      const time = page.locator('tbody tr time').first();
      const iso = (await time.getAttribute('datetime')) ?? '';
      const shown = (await time.textContent()) ?? '';
      expect(shown)
        .to.contain(parisTime(iso))
        .and.match(/UTC\+[12]$/);
      // The machine runs in UTC: the UTC clock time must not be what a French reader sees.
      expect(shown).to.not.contain(iso.slice(11, 16));
      await expectHealthyPage(me, 'dashboard-funded');
    });

    it('transfers 12,34 € typed with a comma to bob once, even when the form is sent twice or reloaded', async () => {
      const { page } = me;
      await useMenu(me, 'Virement');
      await expectHealthyPage(me, 'transfer-form');
      await page.getByLabel('Compte à débiter').selectOption(primary);
      await page.getByLabel('Bénéficiaire').fill('bob');
      const amountField = page.getByLabel('Montant');
      expect(await amountField.getAttribute('inputmode')).to.equal('decimal');
      expect(await amountField.getAttribute('placeholder')).to.equal('12,34');
      await amountField.fill('12,34');
      await page.getByLabel('Libellé').fill(LABEL);
      // A slow connection: the first click reaches the server (the money moves) but its answer (the
      // 303) is held back, so the person clicks again; the browser drops the first answer for the second.
      let posts = 0;
      let firstReachedServer!: () => void;
      let secondSent!: () => void;
      const firstDone = new Promise<void>((resolve) => (firstReachedServer = resolve));
      const secondGone = new Promise<void>((resolve) => (secondSent = resolve));
      await page.route('**/transfer', async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        posts += 1;
        if (posts > 1) {
          secondSent();
          return route.continue();
        }
        const response = await route.fetch({ maxRedirects: 0 });
        firstReachedServer();
        await secondGone;
        await route.fulfill({ response }).catch(() => undefined);
      });
      // Raw mouse clicks: a locator action would wait for the held navigation to finish.
      const box = await page.getByRole('button', { name: 'Envoyer le virement' }).boundingBox();
      if (!box) throw new Error('no send button');
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await firstDone;
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      const sent = page.getByRole('status').filter({ hasText: `Virement de 12,34${NBSP}€ envoyé à bob.` });
      await sent.waitFor();
      expect(posts, 'the form reached the server twice').to.equal(2);
      await page.unroute('**/transfer');
      expect(new URL(page.url()).pathname, 'redirected to a page that can be reloaded').to.equal('/transfer');
      expect(await sent.count(), 'one confirmation for the double click').to.equal(1);
      expect(await sent.locator('code.ref').textContent()).to.match(/^TRX-[0-9A-F]{12}$/);
      expect(await onOneLine(sent.locator('code.ref')), 'reference on one line').to.equal(true);
      await expectHealthyPage(me, 'transfer-done');
      await page.reload();
      expect(await sent.count(), 'the confirmation is shown once').to.equal(0);
      await expectHealthyPage(me, 'transfer-reloaded');
      await page.goto(`${stack.baseUrl}/dashboard`);
      expect(await page.locator('.balance-value').textContent(), 'moved once').to.equal(`987,66${NBSP}€`);
    });

    it('sees the transfer once in the history, amount readable on the screen', async () => {
      const { page } = me;
      await useMenu(me, 'Opérations');
      const { rows, count } = await rowsLabelled(page, LABEL);
      expect(count, 'one history row for the double-clicked transfer').to.equal(1);
      const amount = rows.locator('.amount');
      expect(await amount.textContent()).to.equal(`-12,34${NBSP}€`);
      expect(await fullyVisibleAcross(page, amount), 'amount inside the screen').to.equal(true);
      expect(await rows.innerText()).to.contain('bob');
      expect(await onOneLine(rows.locator('code.ref')), 'reference on one line').to.equal(true);
      await expectHealthyPage(me, 'history');
    });

    it('filters the history by account, and "Tous mes comptes" shows the USD deposit too', async () => {
      const { page } = me;
      const filter = page.getByLabel('Compte', { exact: true });
      await filter.selectOption(primary);
      await Promise.all([page.waitForURL(/account=FT/), page.getByRole('button', { name: 'Afficher' }).click()]);
      expect((await rowsLabelled(page, 'Dépôt en dollars')).count, 'EUR account only').to.equal(0);
      expect((await rowsLabelled(page, LABEL)).count).to.equal(1);
      await expectHealthyPage(me, 'history-primary');
      await filter.selectOption({ label: 'Tous mes comptes' });
      await Promise.all([page.waitForURL(/account=$/), page.getByRole('button', { name: 'Afficher' }).click()]);
      const { rows, count } = await rowsLabelled(page, 'Dépôt en dollars');
      expect(count, 'the USD deposit of the second account').to.equal(1);
      expect(await rows.locator('.amount').textContent()).to.equal(`+1${NNBSP}250,50${NBSP}$US`);
      expect(await rows.innerText()).to.contain(usd);
      expect((await rowsLabelled(page, LABEL)).count).to.equal(1);
      await expectHealthyPage(me, 'history-all-accounts');
    });

    it('bob sees the same transfer credited in his history', async () => {
      const bob = await openVisitor(browser, viewport, 'journey-bob');
      try {
        await login(bob, stack.baseUrl, 'bob', 'password123');
        await useMenu(bob, 'Opérations');
        const { rows, count } = await rowsLabelled(bob.page, LABEL);
        expect(count).to.equal(1);
        expect(await rows.locator('.amount').textContent()).to.equal(`+12,34${NBSP}€`);
        expect(await rows.innerText()).to.contain(username);
        expect(await fullyVisibleAcross(bob.page, rows.locator('.amount'))).to.equal(true);
        await expectHealthyPage(bob, 'history');
      } finally {
        await bob.context.close();
      }
    });

    it('logs out through the confirmation page and cannot come back without logging in', async () => {
      const { page } = me;
      if (viewport.label === '390') await page.getByRole('button', { name: 'Menu' }).click();
      await Promise.all([page.waitForURL('**/logout'), page.getByRole('link', { name: 'Se déconnecter' }).click()]);
      await expectHealthyPage(me, 'logout-confirm');
      await Promise.all([
        page.waitForURL('**/login?logged_out=1'),
        page.getByRole('button', { name: 'Me déconnecter' }).click(),
      ]);
      expect(await page.getByRole('status').textContent()).to.contain('Vous êtes déconnecté.');
      await expectHealthyPage(me, 'logged-out');
      await page.goto(`${stack.baseUrl}/dashboard`);
      expect(new URL(page.url()).pathname).to.equal('/login');
    });
  });
}

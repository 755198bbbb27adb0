import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { expectHealthyPage, login, onOneLine, openVisitor, useMenu } from './helpers/audit.js';
import { launchChromium, VIEWPORTS } from './helpers/browser.js';
import { startBrowserStack, type BrowserStack } from './helpers/stack.js';

const NNBSP = '\u202f';
const NBSP = '\u00a0';
const POSITIVE_GREEN = 'rgb(6, 118, 71)';
const UNAVAILABLE = 'Service des comptes temporairement indisponible, réessayez dans quelques instants.';
/** What no page may claim while it cannot read the accounts. */
const INVENTED = /Aucun compte|aucun compte à débiter|Aucune opération|Veuillez corriger|journal est vide/;

for (const viewport of VIEWPORTS) {
  describe(`admin accounting and transactions outage at ${viewport.label} px`, function () {
    let stack: BrowserStack;
    let browser: Browser;

    before(async () => {
      stack = await startBrowserStack();
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await stack?.close();
    });

    it('the admin reads a balanced trial balance and the journal in French amounts', async () => {
      const admin = await openVisitor(browser, viewport, 'admin');
      try {
        await login(admin, stack.baseUrl, 'admin', 'password123');
        await expectHealthyPage(admin, 'dashboard');
        await useMenu(admin, 'Comptabilité');
        const { page } = admin;
        expect(await page.getByRole('status').textContent()).to.contain('Balance équilibrée');
        // The seeded opening balances: 1 000 + 500 + 250 € from settlement.
        const eur = page.locator('tbody tr', { has: page.locator('th', { hasText: 'EUR' }) });
        expect(await eur.innerText()).to.contain(`1${NNBSP}750,00${NBSP}€`);
        const adminRow = page.locator('tbody tr', { has: page.locator('.cell-main', { hasText: /^admin$/ }) });
        const zero = adminRow.locator('.cell-amount .amount');
        expect(await zero.textContent()).to.equal(`0,00${NBSP}€`);
        expect(await zero.evaluate((el) => getComputedStyle(el).color)).to.not.equal(POSITIVE_GREEN);
        const firstRef = page.locator('code.ref').first();
        expect(await firstRef.textContent()).to.match(/^TRX-[0-9A-F]{12}$/);
        expect(await onOneLine(firstRef), 'reference on one line').to.equal(true);
        await expectHealthyPage(admin, 'accounting');
      } finally {
        await admin.context.close();
      }
    });

    it('with the transactions service stopped, pages say so, disable their forms and recover when it is back', async () => {
      const alice = await openVisitor(browser, viewport, 'outage');
      const admin = await openVisitor(browser, viewport, 'outage-admin');
      try {
        await login(alice, stack.baseUrl, 'alice', 'password123');
        await login(admin, stack.baseUrl, 'admin', 'password123');
        const { page } = alice;
        expect(await page.locator('.balance-value').textContent()).to.equal(`1${NNBSP}000,00${NBSP}€`);
        await stack.stopTransactions();

        /** The one banner, nothing invented about the accounts, a 503 (checked by expectHealthyPage). */
        const expectOutage = async (visitor: typeof alice, step: string) => {
          const alerts = visitor.page.getByRole('alert');
          expect(await alerts.count(), `one banner on ${step}`).to.equal(1);
          expect(await alerts.textContent()).to.contain(UNAVAILABLE);
          expect(await visitor.page.locator('main').innerText(), step).to.not.match(INVENTED);
          await expectHealthyPage(visitor, step, 503);
        };

        await page.reload();
        expect(await page.locator('.balance-value').textContent(), 'no invented balance').to.equal('—');
        await expectOutage(alice, 'dashboard-unavailable');

        await useMenu(alice, 'Virement');
        expect(await page.getByRole('button', { name: 'Envoyer le virement' }).isDisabled()).to.equal(true);
        expect(await page.getByLabel('Montant').isDisabled()).to.equal(true);
        expect(await page.locator('.form-disabled-reason').textContent()).to.contain('Les virements sont suspendus');
        await expectOutage(alice, 'transfer-unavailable');

        await useMenu(alice, 'Opérations');
        expect(await page.getByRole('button', { name: 'Afficher' }).isDisabled()).to.equal(true);
        await expectOutage(alice, 'history-unavailable');

        await useMenu(alice, 'Ouvrir un compte');
        expect(await page.getByRole('button', { name: 'Ouvrir le compte' }).isDisabled()).to.equal(true);
        await expectOutage(alice, 'create-account-unavailable');

        await useMenu(admin, 'Comptabilité');
        await expectOutage(admin, 'accounting-unavailable');

        await stack.startTransactions();
        await useMenu(alice, 'Tableau de bord');
        expect(await page.locator('.balance-value').textContent()).to.equal(`1${NNBSP}000,00${NBSP}€`);
        expect(await page.getByRole('alert').count(), 'no banner once the service is back').to.equal(0);
        await expectHealthyPage(alice, 'dashboard-recovered');
      } finally {
        await stack.startTransactions();
        await alice.context.close();
        await admin.context.close();
      }
    });
  });
}

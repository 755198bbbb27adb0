import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { login, openVisitor } from './helpers/audit.js';
import { launchChromium, pageWidth } from './helpers/browser.js';
import { startBrowserStack, type BrowserStack } from './helpers/stack.js';

/** Widths between and around the two scenario viewports: the smallest phone, tablets, a small laptop. */
const WIDTHS = [320, 768, 1024, 1200];
const PAGES = ['/dashboard', '/transactions', '/transfer', '/create_account', '/trading', '/accounting', '/logout'];

describe('layout from 320 px up', function () {
  let stack: BrowserStack;
  let browser: Browser;

  before(async () => {
    stack = await startBrowserStack();
    browser = await launchChromium();
    const admin = await stack
      .db('accounts')
      .join('users', 'users.id', 'accounts.user_id')
      .where('users.username', 'admin')
      .first('accounts.number');
    await stack.deposit(admin.number, '999999.99', 'Remboursement des frais de déplacement du séminaire de novembre');
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  for (const width of WIDTHS) {
    it(`no page scrolls sideways and no table overflows at ${width} px`, async () => {
      const admin = await openVisitor(browser, { label: String(width), width, height: 800 }, 'widths');
      try {
        await login(admin, stack.baseUrl, 'admin', 'password123');
        for (const path of PAGES) {
          await admin.page.goto(`${stack.baseUrl}${path}`);
          const page = await pageWidth(admin.page);
          expect(page.scrollWidth, `${path} at ${width} px`).to.be.at.most(page.clientWidth);
          const overflowing = await admin.page.evaluate(
            () =>
              Array.from(document.querySelectorAll('.table-wrap')).filter((el) => el.scrollWidth > el.clientWidth)
                .length,
          );
          expect(overflowing, `tables scrolling sideways on ${path} at ${width} px`).to.equal(0);
        }
      } finally {
        await admin.context.close();
      }
    });
  }
});

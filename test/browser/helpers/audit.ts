import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  axeSeriousOrCritical,
  DESKTOP,
  newContext,
  pageWidth,
  PageWatch,
  PHONE,
  screenshotPath,
  typographyProblems,
  type Viewport,
} from './browser.js';

/** One person's browser tab in one scenario, with everything it reports watched. */
export interface Visitor {
  context: BrowserContext;
  page: Page;
  watch: PageWatch;
  viewport: Viewport;
  scenario: string;
  step: number;
}

export async function openVisitor(browser: Browser, viewport: Viewport, scenario: string): Promise<Visitor> {
  const context = await newContext(browser, viewport);
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const watch = await PageWatch.attach(page);
  return { context, page, watch, viewport, scenario, step: 0 };
}

/**
 * What every page must hold, checked where the visitor stands: the expected status, no console
 * error, no CSP violation, no uncaught exception, axe-core without serious or critical
 * violations, no horizontal scroll, French typography, and on a wide screen a header on one row.
 * Takes a full-page screenshot named by scenario, viewport and step first, so a failure has one.
 */
export async function expectHealthyPage(visitor: Visitor, name: string, status = 200): Promise<void> {
  const { page, watch, viewport } = visitor;
  visitor.step += 1;
  const step = `${String(visitor.step).padStart(2, '0')}-${name}`;
  await page.waitForLoadState('load');
  await page.screenshot({ path: screenshotPath(visitor.scenario, viewport, step), fullPage: true });
  const where = `${visitor.scenario} ${step} at ${viewport.label} px (${page.url()})`;

  expect(watch.lastDocumentStatus, `status of ${where}`).to.equal(status);
  expect(await axeSeriousOrCritical(page), `axe serious/critical on ${where}`).to.deep.equal([]);
  const width = await pageWidth(page);
  expect(width.scrollWidth, `page width on ${where}`).to.be.at.most(width.clientWidth);
  expect(await typographyProblems(page), `typography on ${where}`).to.deep.equal([]);
  if (viewport === DESKTOP) {
    const header = await page.locator('.site-header').boundingBox();
    expect(header?.height, `header on one row on ${where}`).to.be.below(80);
  }
  expect(watch.take(), `console of ${where}`).to.deep.equal({ consoleErrors: [], pageErrors: [], cspViolations: [] });
}

/**
 * Follows a main-menu link the way a person does: on a phone, through the Menu button first (and,
 * with `checkOpenMenu`, checks the open panel like any page).
 */
export async function useMenu(visitor: Visitor, label: string, checkOpenMenu = false): Promise<void> {
  const { page } = visitor;
  if (visitor.viewport === PHONE) {
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.locator('#site-menu').waitFor({ state: 'visible' });
    if (checkOpenMenu) await expectHealthyPage(visitor, 'menu-open');
  }
  const link = page.locator('#site-menu').getByRole('link', { name: label, exact: true });
  const target = new URL((await link.getAttribute('href')) ?? '', page.url()).href;
  await Promise.all([page.waitForURL(target), link.click()]);
}

export async function login(visitor: Visitor, baseUrl: string, username: string, password: string): Promise<void> {
  const { page } = visitor;
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Nom d’utilisateur').fill(username);
  await page.getByLabel('Mot de passe').fill(password);
  await Promise.all([page.waitForURL('**/dashboard'), page.getByRole('button', { name: 'Se connecter' }).click()]);
}

/** The text of the history/journal row whose label cell is `label`, and how many such rows. */
export async function rowsLabelled(page: Page, label: string) {
  const rows = page.locator('tbody tr').filter({ has: page.locator('.cell-main', { hasText: label }) });
  return { rows, count: await rows.count() };
}

/** True when the element sits whole inside the viewport's width (a phone user sees it without scrolling sideways). */
export async function fullyVisibleAcross(page: Page, selector: ReturnType<Page['locator']>): Promise<boolean> {
  const box = await selector.boundingBox();
  const width = page.viewportSize()?.width ?? 0;
  return box !== null && box.x >= 0 && box.x + box.width <= width;
}

/** An inline element laid out on a single line (not cut across two). */
export function onOneLine(selector: ReturnType<Page['locator']>): Promise<boolean> {
  return selector.evaluate((el) => el.getClientRects().length === 1);
}

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS_DIR = join('reports', 'screenshots');

export interface Viewport {
  label: string;
  width: number;
  height: number;
}

export const DESKTOP: Viewport = { label: '1280', width: 1280, height: 800 };
export const PHONE: Viewport = { label: '390', width: 390, height: 844 };
export const VIEWPORTS: readonly Viewport[] = [DESKTOP, PHONE];

/**
 * Debian's Chromium (scripts/ci/browser-tests.sh installs it). Playwright gives every launch a
 * fresh temporary profile (--user-data-dir) and removes it on close; it refuses that flag in
 * `args`, so it is the one flag of our list that playwright passes itself.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run the tier through "npm run test:browser", which installs it`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--lang=fr-FR',
    ],
  });
}

export function newContext(browser: Browser, viewport: Viewport): Promise<BrowserContext> {
  return browser.newContext({
    viewport: { width: viewport.width, height: viewport.height },
    locale: 'fr-FR',
    // A phone viewport is also a touch screen without hover.
    isMobile: viewport === PHONE,
    hasTouch: viewport === PHONE,
    deviceScaleFactor: 1,
  });
}

export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  cspViolations: string[];
}

/**
 * Everything a page reports that a user's browser console would show: console errors, uncaught
 * exceptions and Content-Security-Policy violations (the `securitypolicyviolation` event, relayed
 * from the page through a binding, which the page's CSP does not govern).
 */
export class PageWatch {
  readonly problems: PageProblems = { consoleErrors: [], pageErrors: [], cspViolations: [] };
  /** Status of the last main-document response, so an intended 4xx/5xx page is not a console error. */
  lastDocumentStatus = 0;

  private constructor(readonly page: Page) {}

  static async attach(page: Page): Promise<PageWatch> {
    const watch = new PageWatch(page);
    await page.exposeBinding('__reportCspViolation', (_source, text: string) => {
      watch.problems.cspViolations.push(text);
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        const report = (window as unknown as { __reportCspViolation: (text: string) => void }).__reportCspViolation;
        report(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} in ${e.sourceFile || e.documentURI}`);
      });
    });
    page.on('console', (msg) => watch.onConsole(msg));
    page.on('pageerror', (err) => watch.problems.pageErrors.push(err.message));
    page.on('response', (res) => {
      if (res.request().isNavigationRequest() && res.frame() === page.mainFrame()) {
        watch.lastDocumentStatus = res.status();
      }
    });
    return watch;
  }

  private onConsole(msg: ConsoleMessage): void {
    if (msg.type() !== 'error') return;
    const where = msg.location().url;
    // Chromium logs a main document answered 4xx/5xx as a failed resource; audit() checks that
    // status against the one the step expects instead.
    const documentStatus = /the server responded with a status of (\d{3})/.exec(msg.text());
    if (documentStatus && where === this.page.url() && Number(documentStatus[1]) === this.lastDocumentStatus) return;
    this.problems.consoleErrors.push(`${msg.text()} (${where})`);
  }

  /** Returns and forgets the problems seen since the last call. */
  take(): PageProblems {
    const taken = {
      consoleErrors: this.problems.consoleErrors.splice(0),
      pageErrors: this.problems.pageErrors.splice(0),
      cspViolations: this.problems.cspViolations.splice(0),
    };
    return taken;
  }
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/** axe-core's serious and critical violations on the current page (its default rule set). */
export async function axeSeriousOrCritical(page: Page): Promise<AxeFinding[]> {
  // evaluate() runs through the DevTools protocol, so the page's CSP does not block the library.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            context: Document,
            options: object,
          ): Promise<{
            violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }>;
          }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export interface PageWidth {
  scrollWidth: number;
  clientWidth: number;
}

export function pageWidth(page: Page): Promise<PageWidth> {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
}

/**
 * French typography in what the page shows: the visible text plus the attributes people read
 * (placeholders, titles, labels for assistive technology). Returns each offending excerpt.
 */
export async function typographyProblems(page: Page): Promise<string[]> {
  const texts = await page.evaluate(() => {
    const attributes = Array.from(document.querySelectorAll('[placeholder], [title], [aria-label], img[alt]')).flatMap(
      (el) => ['placeholder', 'title', 'aria-label', 'alt'].map((name) => el.getAttribute(name) ?? '').filter(Boolean),
    );
    return [document.title, document.body.innerText, ...attributes];
  });
  const rules: Array<[RegExp, string]> = [
    [/\p{L}'\p{L}/gu, 'straight apostrophe'],
    [/ [:;!?](?=\s|$)/gu, 'breaking space before : ; ! ?'],
    [/« /gu, 'breaking space after «'],
    [/ »/gu, 'breaking space before »'],
  ];
  const found: string[] = [];
  for (const text of texts) {
    for (const [pattern, name] of rules) {
      for (const match of text.matchAll(pattern)) {
        const start = Math.max(0, (match.index ?? 0) - 20);
        found.push(`${name}: "${text.slice(start, (match.index ?? 0) + 20).replace(/\s+/g, ' ')}"`);
      }
    }
  }
  return found;
}

export function screenshotPath(scenario: string, viewport: Viewport, step: string): string {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  return join(SCREENSHOTS_DIR, `${scenario}-${viewport.label}-${step}.png`);
}

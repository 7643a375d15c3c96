/**
 * The single-file HTML report in Debian's Chromium, from file:// with every other request blocked,
 * read as QA reads it: the landing page, the tree, a check's page, the Categories tab.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
} from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Allure's id of the result carrying the label finding=<key> (md5 of its uuid): the report links to #<id>. */
export function resultIdOf(outDir: string, key: string): string {
  const dir = path.join(outDir, 'allure-results');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('-result.json'))) {
    const r = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {
      uuid: string;
      labels: { name: string; value: string }[];
    };
    if (r.labels.some((l) => l.name === 'finding' && l.value === key))
      return createHash('md5').update(r.uuid).digest('hex');
  }
  throw new Error(`no Allure result for ${key} in ${dir}`);
}

export class ReportPage {
  page!: Page;
  private context: BrowserContext | undefined;
  readonly blocked: string[] = [];
  readonly pageErrors: string[] = [];

  constructor(
    private readonly browser: Browser,
    readonly htmlFile: string,
  ) {}

  get url(): string {
    return pathToFileURL(this.htmlFile).href;
  }

  /** A new browser context each time: the report keeps expanded tree groups in localStorage. */
  async open(hash = ''): Promise<Page> {
    await this.context?.close();
    this.context = await this.browser.newContext({ viewport: { width: 1400, height: 1100 } });
    this.page = await this.context.newPage();
    this.page.setDefaultTimeout(15_000);
    this.page.on('pageerror', (e) => this.pageErrors.push(e.message));
    this.page.on('crash', () => this.pageErrors.push('the page crashed'));
    await this.page.route('**/*', async (route) => {
      const url = route.request().url();
      if (/^(file|data|blob):/.test(url)) await route.continue();
      else {
        this.blocked.push(url);
        await route.abort();
      }
    });
    await this.page.goto(`${this.url}${hash}`);
    await (
      hash && hash !== '#categories'
        ? this.page.getByTestId('test-result-info-title')
        : this.page.getByTestId('report-title')
    ).waitFor();
    return this.page;
  }

  async close(): Promise<void> {
    await this.context?.close();
  }

  sectionTitle(name: string): Locator {
    return this.page
      .getByTestId('tree-section-title')
      .filter({ hasText: new RegExp(`^${escape(name)}$`) });
  }

  leafTitle(name: string): Locator {
    return this.page
      .getByTestId('tree-leaf-title')
      .filter({ hasText: new RegExp(`^${escape(name)}$`) });
  }

  /** A leaf by title, inside `within` (a provider's group when several show the same check). */
  leaf(name: string, within: Locator = this.page.locator('body')): Locator {
    return within.getByTestId('tree-leaf').filter({ has: this.leafTitle(name) });
  }

  /** Expands a tree group (groups may start collapsed) until `child` shows. */
  async expand(name: string, child: Locator): Promise<void> {
    await this.sectionTitle(name).first().waitFor();
    if ((await child.count()) === 0) await this.sectionTitle(name).first().click();
    await child.first().waitFor();
  }

  /** The landing page's verdict lines: provider → { verdict, text }. */
  async verdictLines(): Promise<Map<string, { verdict: string; text: string }>> {
    const lines = this.page.getByTestId('tc-verdict');
    await lines.first().waitFor();
    const out = new Map<string, { verdict: string; text: string }>();
    for (const line of await lines.all()) {
      out.set((await line.getAttribute('data-provider')) ?? '?', {
        verdict: (await line.getAttribute('data-verdict')) ?? '?',
        text: await line.innerText(),
      });
    }
    return out;
  }

  /** A tree group (its header and its content), by title, inside `within`. */
  group(title: string, within: Locator = this.page.locator('body')): Locator {
    return within
      .getByTestId('tree-section')
      .filter({ has: this.sectionTitle(title) })
      .first()
      .locator('xpath=..');
  }

  /** The leaf titles of one provider's area, in the order the tree shows them. */
  async leaves(provider: string, area: string): Promise<string[]> {
    await this.expand(provider, this.sectionTitle(area));
    const areaGroup = this.group(area, this.group(provider));
    const titles = areaGroup.locator(
      ':scope > [data-testid=tree-content] > [data-testid=tree-leaf] [data-testid=tree-leaf-title]',
    );
    if ((await titles.count()) === 0)
      await areaGroup.getByTestId('tree-section-title').first().click();
    await titles.first().waitFor();
    return titles.allInnerTexts();
  }

  /** A check's description: Allure renders it in a frame of its own. */
  async descriptionText(): Promise<string> {
    const body = this.page
      .frameLocator('[data-testid=test-result-description-frame]')
      .locator('body');
    await body.locator('p').first().waitFor();
    return body.innerText();
  }

  /** The text of an attachment on a check's page, opened inline. */
  async attachmentText(prefix: string): Promise<string> {
    await this.page
      .getByTestId('test-result-attachment-header')
      .filter({ hasText: prefix })
      .first()
      .click();
    const attachment = this.page
      .getByTestId('test-result-attachment')
      .filter({ hasText: prefix })
      .first();
    await attachment.locator('pre, code').first().waitFor();
    return attachment.innerText();
  }
}

/**
 * Authorization codes for the authorization_code grant (RFC 6749 §4.1, RFC 7636): the harness opens
 * the authorization endpoint in headless chromium (playwright-core), runs the descriptor's login
 * steps, and takes the code from the browser's navigation to the redirect URI, which is intercepted
 * and never loaded. One browser and one context per provider run: after the first login the session
 * cookie usually lets later authorizations through without the form, which the steps allow for (a
 * step is skipped once the redirect has arrived; clickIfPresent passes over what is not there).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { connect } from 'node:tls';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { DescriptorError } from '../descriptor/load.js';
import type { ClientDescriptor, LoginStep, Provider } from '../descriptor/types.js';
import { NotRunError, prerequisite } from '../probes/types.js';
import { pkcePair } from './pkce.js';
import { CHROMIUM_ARGS, chromiumInstalled, chromiumPath } from './chromium.js';

/** A login step that cannot be done: the page changed, or the descriptor is wrong. The CLI exits 2. */
export class LoginStepError extends DescriptorError {
  override name = 'LoginStepError';
}

export interface CodeRequest {
  client: ClientDescriptor;
  /** S256 (the default) or no code_challenge at all. */
  pkce?: 'S256' | 'none';
  scope?: string;
}

/** A code and what its exchange needs; the code and the verifier are secrets (held in memory only). */
export interface CodeGrant {
  code: string;
  verifier?: string;
  redirectUri: string;
}

export interface AuthorizerHooks {
  /** Counts one authorization against the request budget; throws NotRunError when it is used up. */
  beforeLogin(): void;
  /** The authorization endpoint: the descriptor's, else the discovered one. */
  endpoint(): string | undefined;
  /** The redactor learns a secret before anything could record it. */
  learn(name: 'code' | 'code_verifier', value: string): void;
}

/** How long a login step waits for its element; clickIfPresent waits less. */
const STEP_TIMEOUT_MS = 10_000;
const OPTIONAL_STEP_TIMEOUT_MS = 2_000;

const b64url = (b: Buffer): string => b.toString('base64url');

/** A URL as an error message shows it: without query or fragment (they may carry state or codes). */
function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(no page)';
  }
}

function describeStep(step: LoginStep): string {
  if ('fill' in step) return `fill ${step.fill}`;
  if ('click' in step) return `click ${step.click}`;
  return `clickIfPresent ${step.clickIfPresent}`;
}

/** The same URL without query and fragment, for matching the redirect URI. */
function base(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

export class Authorizer {
  logins = 0;
  private browser: Browser | undefined;
  private context: BrowserContext | undefined;
  private readonly file: string;

  constructor(
    private readonly p: Provider,
    private readonly hooks: AuthorizerHooks,
  ) {
    this.file = path.relative(process.cwd(), p.file) || p.file;
  }

  /** A fresh code for `client` (one authorization in the browser, counted as one request). */
  async code(req: CodeRequest): Promise<CodeGrant> {
    const a = this.p.authorization;
    if (!a) throw new NotRunError(prerequisite('the descriptor declares no authorization'));
    const endpoint = this.hooks.endpoint();
    if (!endpoint)
      throw new NotRunError(
        prerequisite(
          'no authorization endpoint: authorization.endpoint is not declared and the metadata named no authorization_endpoint',
        ),
      );
    const context = await this.open(endpoint);
    // Counted once the browser is there: a login that cannot start costs no budget.
    this.hooks.beforeLogin();
    const state = b64url(randomBytes(16));
    const pkce = req.pkce === 'none' ? undefined : pkcePair();
    const url = new URL(endpoint);
    const params: [string, string][] = [
      ['response_type', 'code'],
      ['client_id', req.client.id],
      ['redirect_uri', a.redirectUri],
      ['state', state],
    ];
    const scope = req.scope ?? a.scope ?? this.p.scopes.request;
    if (scope) params.push(['scope', scope]);
    if (pkce) params.push(['code_challenge', pkce.challenge], ['code_challenge_method', 'S256']);
    for (const [k, v] of params) url.searchParams.append(k, v);

    const page = await context.newPage();
    try {
      const redirect = await this.authorize(page, url.toString(), a.redirectUri, a.login);
      this.logins += 1;
      const got = redirect.searchParams;
      const error = got.get('error');
      if (error)
        throw new NotRunError(
          prerequisite(
            `the authorization endpoint refused the authorization request: error=${error}${got.get('error_description') ? ` (${got.get('error_description')})` : ''}`,
          ),
        );
      if (got.get('state') !== state)
        throw new NotRunError(
          prerequisite('the redirect carried another state than the authorization request sent'),
        );
      const code = got.get('code');
      if (!code)
        throw new NotRunError(prerequisite('the redirect to the redirect URI carried no code'));
      this.hooks.learn('code', code);
      if (pkce) this.hooks.learn('code_verifier', pkce.verifier);
      return { code, redirectUri: a.redirectUri, ...(pkce ? { verifier: pkce.verifier } : {}) };
    } finally {
      await page.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const browser = this.browser;
    this.browser = undefined;
    this.context = undefined;
    await browser?.close().catch(() => undefined);
  }

  private async open(endpoint: string): Promise<BrowserContext> {
    if (this.context) return this.context;
    if (!chromiumInstalled())
      throw new NotRunError(
        prerequisite(
          `no browser for the login: ${chromiumPath()} is missing (install Debian's package chromium: apt-get install chromium, or set TC_CHROMIUM)`,
        ),
      );
    const { tls } = this.p;
    // Chromium trusts the system's CAs. A private CA (tls.caFile) is checked here, with Node, on the
    // authorization endpoint's origin; the browser then accepts that origin's certificate.
    if (tls.caFile && !tls.insecureSkipVerify) await verifyOrigin(endpoint, tls.caFile);
    try {
      const { chromium } = await import('playwright-core');
      // The redirect URI's host never resolves in this browser (unless the authorization server
      // shares it): a redirect to it is seen as a request and goes nowhere.
      const redirectHost = new URL(this.p.authorization!.redirectUri).hostname;
      const ownHost = new URL(endpoint).hostname;
      const rules =
        redirectHost !== ownHost && /^[A-Za-z0-9.-]+$/.test(redirectHost)
          ? [`--host-resolver-rules=MAP ${redirectHost} ~NOTFOUND`]
          : [];
      this.browser = await chromium.launch({
        executablePath: chromiumPath(),
        args: [...CHROMIUM_ARGS, ...rules],
        headless: true,
      });
      this.context = await this.browser.newContext({
        ignoreHTTPSErrors: tls.caFile !== undefined || tls.insecureSkipVerify,
      });
      return this.context;
    } catch (e) {
      await this.close();
      throw new NotRunError(
        prerequisite(`the browser for the login did not start: ${(e as Error).message}`),
      );
    }
  }

  /** Opens the authorization URL, runs the login steps, and returns the intercepted redirect. */
  private async authorize(
    page: Page,
    url: string,
    redirectUri: string,
    steps: LoginStep[],
  ): Promise<URL> {
    const target = base(redirectUri);
    let arrived: URL | undefined;
    let resolveArrived: (u: URL) => void = () => undefined;
    const redirect = new Promise<URL>((resolve) => (resolveArrived = resolve));
    // A redirect to the redirect URI (after a 30x of the server) is seen as a request; a direct
    // navigation to it is answered here. Either way the redirect target is never contacted.
    page.on('request', (request) => {
      if (arrived || base(request.url()) !== target) return;
      arrived = new URL(request.url());
      resolveArrived(arrived);
    });
    await page.route(
      (u) => base(u.toString()) === target,
      async (route: Route) => {
        arrived ??= new URL(route.request().url());
        resolveArrived(arrived);
        await route.fulfill({ status: 204, body: '' });
      },
    );
    const navigated = page
      .goto(url, { waitUntil: 'domcontentloaded', timeout: this.p.limits.timeoutMs })
      .then(() => undefined)
      .catch((e: Error) => e);
    const first = await Promise.race([redirect, navigated]);
    if (first instanceof Error && !arrived)
      throw new NotRunError(
        prerequisite(
          `the authorization endpoint ${shown(url)} did not load: ${(first.message.split('\n')[0] ?? '').replace(/ at https?:\/\/\S+/, '')}`,
        ),
      );
    const a = this.p.authorization!;
    for (const [i, step] of steps.entries()) {
      if (arrived) break;
      const field = `authorization.login[${i}] (${describeStep(step)})`;
      const selector =
        'fill' in step ? step.fill : 'click' in step ? step.click : step.clickIfPresent;
      const optional = 'clickIfPresent' in step;
      const locator = page.locator(selector).first();
      const found = await Promise.race([
        locator
          .waitFor({
            state: 'visible',
            timeout: optional
              ? OPTIONAL_STEP_TIMEOUT_MS
              : Math.min(STEP_TIMEOUT_MS, this.p.limits.timeoutMs),
          })
          .then(() => true)
          .catch(() => false),
        redirect.then(() => false),
      ]);
      if (arrived) break;
      if (!found) {
        if (optional) continue;
        throw new LoginStepError(this.file, field, `no element matches on ${shown(page.url())}`);
      }
      try {
        if ('fill' in step)
          await locator.fill(
            step.value
              .replaceAll('${user.username}', a.user.username)
              .replaceAll('${user.password}', a.user.password),
          );
        else await locator.click();
      } catch (e) {
        if (arrived) break;
        throw new LoginStepError(
          this.file,
          field,
          `the element on ${shown(page.url())} could not be used: ${(e as Error).message.split('\n')[0]}`,
        );
      }
    }
    const done = await Promise.race([
      redirect,
      new Promise<undefined>((resolve) =>
        setTimeout(() => resolve(undefined), this.p.limits.timeoutMs).unref(),
      ),
    ]);
    if (!done)
      throw new LoginStepError(
        this.file,
        'authorization.login',
        `after the last step the browser is on ${shown(page.url())}, and no redirect to authorization.redirectUri arrived within ${this.p.limits.timeoutMs} ms`,
      );
    return done;
  }
}

/** The origin's certificate chains to the CA file (Node verifies; the browser cannot be given a CA). */
async function verifyOrigin(endpoint: string, caFile: string): Promise<void> {
  const u = new URL(endpoint);
  const ca = readFileSync(caFile, 'utf8');
  await new Promise<void>((resolve, reject) => {
    const socket = connect(
      {
        host: u.hostname,
        port: Number(u.port || 443),
        ca,
        servername: u.hostname.match(/^[\d.]+$/) ? undefined : u.hostname,
      },
      () => {
        socket.end();
        resolve();
      },
    );
    socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
    socket.once('error', (e) =>
      reject(
        new NotRunError(
          prerequisite(
            `the authorization endpoint's certificate does not verify with tls.caFile: ${e.message}`,
          ),
        ),
      ),
    );
  });
}

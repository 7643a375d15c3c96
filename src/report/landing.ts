/**
 * The report's landing page: one line per provider with its verdict, and the facts Allure's own
 * overview gets wrong for this harness. Allure 3.18 has no place on its overview for a line of text
 * per provider: the environment info and variables are two-column key/value chips cut at a fixed
 * width, quality gates and global attachments are tabs of their own, categories group results but
 * state no verdict, and a plugin cannot add to the awesome report's page (a summary plugin renders a
 * separate page per report). So the smallest addition is a block placed under the report header by a
 * few lines of script, plus two data corrections in the generated file:
 * - the header's run time: Allure spans the results' start..stop, and the results' start times order
 *   the tree (presentation.ts), so the run record's start and finish are written instead;
 * - the donut's percentage: Allure divides passes by passed + failed + broken; here it is over the
 *   checks that judged the endpoint (passed, failed, SHOULD not met), an outage judging nothing.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  describeProxyUse,
  readRunRecord,
  type ProviderRun,
  type RunRecord,
} from '../run-record.js';
import { FINDING_LABEL, reportEntries, type ReportEntry } from './presentation.js';
import { readPastRuns, trendOf, type ProviderTrend } from './trend.js';
import { summarize, type ProviderVerdict, type VerdictSummary } from './verdict.js';

export interface LandingData {
  record: RunRecord;
  entries: ReportEntry[];
  /** By provider name; undefined when the history has no earlier run of it. */
  trends: Map<string, ProviderTrend | undefined>;
  /** Allure's test result id by finding key, for links into the report. */
  resultIds: Map<string, string>;
  /** Where the trend was read from, to say so when it is empty. */
  historyFile?: string;
}

/** What the landing page needs besides the Allure results; read before allure generate appends this run to the history. */
export function landingData(
  runFile: string,
  resultsDir: string,
  historyFile: string | undefined,
): LandingData {
  const record = readRunRecord(runFile);
  const entries = reportEntries(record);
  const past = readPastRuns(historyFile);
  const trends = new Map(
    record.providers.map((r) => [r.provider.name, trendOf(r.provider.name, past, entries)]),
  );
  return {
    record,
    entries,
    trends,
    resultIds: resultIdsOf(resultsDir),
    ...(historyFile ? { historyFile } : {}),
  };
}

/** Allure names a result md5(uuid) (@allurereport/core, store/convert.ts); the report links with #<id>. */
export function resultIdsOf(resultsDir: string): Map<string, string> {
  const ids = new Map<string, string>();
  for (const file of readdirSync(resultsDir)) {
    if (!file.endsWith('-result.json')) continue;
    const r = JSON.parse(readFileSync(path.join(resultsDir, file), 'utf8')) as {
      uuid?: string;
      labels?: { name: string; value: string }[];
    };
    const key = r.labels?.find((l) => l.name === FINDING_LABEL)?.value;
    if (key && r.uuid) ids.set(key, createHash('md5').update(r.uuid).digest('hex'));
  }
  return ids;
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const SYMBOL: Record<ProviderVerdict, string> = {
  conformant: '✓',
  'non-conformant': '✗',
  'not verified': '?',
};
const CLASS: Record<ProviderVerdict, string> = {
  conformant: 'tc-ok',
  'non-conformant': 'tc-fail',
  'not verified': 'tc-nv',
};

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const utc = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function counts(v: VerdictSummary): string {
  const parts = [`${v.mustFailed} MUST and ${plural(v.expectationFailed, 'EXPECTATION failure')}`];
  if (v.shouldFailed > 0) parts.push(`${v.shouldFailed} SHOULD failed (--strict)`);
  parts.push(plural(v.warnings, 'warning'));
  if (v.deviations > 0) parts.push(plural(v.deviations, 'known deviation'));
  parts.push(
    v.judged > 0
      ? `${v.passed} of ${plural(v.judged, 'judged check')} passed`
      : 'no check judged the endpoint',
  );
  if (v.notJudged > 0) parts.push(`${v.notJudged} not judged`);
  parts.push(plural(v.requests, 'request'));
  return parts.join(' · ');
}

function link(data: LandingData, key: string, text: string): string {
  const id = data.resultIds.get(key);
  return id ? `<a href="#${id}">${esc(text)}</a>` : esc(text);
}

function trendHtml(data: LandingData, v: VerdictSummary, t: ProviderTrend | undefined): string {
  if (!t)
    return `<div class="tc-trend" data-testid="tc-trend">Trend: no earlier run in this history${data.historyFile ? ` (${esc(path.basename(data.historyFile))})` : ''}</div>`;
  const marks = t.previous.map(
    (r) =>
      `<span class="${CLASS[r.verdict]}" title="${esc(`${utc(r.timestamp)}: ${r.verdict}`)}">${SYMBOL[r.verdict]}</span>`,
  );
  marks.push(
    `<span class="${CLASS[v.verdict]}" title="now: ${v.verdict}">${SYMBOL[v.verdict]}</span>`,
  );
  const changes = (label: string, cs: ProviderTrend['regressed'], testid: string) =>
    cs.length === 0
      ? ''
      : `<div class="tc-changes" data-testid="${testid}">${label}: ${cs.map((c) => `${link(data, c.key, c.name)} (${c.from} → ${c.to})`).join('; ')}</div>`;
  return [
    `<div class="tc-trend" data-testid="tc-trend">Trend, oldest to now: ${marks.join(' ')} · since the last run: ${plural(t.regressed.length, 'check')} regressed, ${t.fixed.length} fixed</div>`,
    changes('Regressed', t.regressed, 'tc-regressed'),
    changes('Fixed', t.fixed, 'tc-fixed'),
  ].join('');
}

function providerLine(data: LandingData, run: ProviderRun): string {
  const v = summarize(run);
  const notes = [
    v.verdict === 'not verified' && v.brokenReason ? v.brokenReason : '',
    run.provider.insecure ? 'INSECURE: TLS certificate verification was off' : '',
    run.provider.insecureHttp?.length
      ? `INSECURE: plain HTTP on loopback (allowInsecureHttp) for ${run.provider.insecureHttp.join(', ')}`
      : '',
    describeProxyUse(run.provider.proxy) ?? '',
  ].filter(Boolean);
  const why = notes.map((n) => `<div class="tc-why">${esc(n)}</div>`).join('');
  return [
    `<li class="tc-provider" data-testid="tc-verdict" data-provider="${esc(v.provider)}" data-verdict="${v.verdict}">`,
    `<span class="tc-badge ${CLASS[v.verdict]}">${SYMBOL[v.verdict]} ${v.verdict}</span> <strong>${esc(v.provider)}</strong>: `,
    `<span data-testid="tc-counts">${esc(counts(v))}</span> · <span class="tc-endpoint">${esc(v.tokenEndpoint)}</span>`,
    why,
    trendHtml(data, v, data.trends.get(v.provider)),
    '</li>',
  ].join('');
}

const STYLE = `
.tc-landing{padding:16px 24px 8px;border-top:1px solid var(--color-border-default);font-size:14px;line-height:1.45;color:var(--color-text-primary)}
.tc-landing h2{font-size:15px;font-weight:600;margin:0 0 4px}
.tc-landing strong{font-weight:600}
.tc-landing .tc-run,.tc-landing .tc-trend,.tc-landing .tc-changes,.tc-landing .tc-why{color:var(--color-text-secondary);font-size:13px}
.tc-landing ul{list-style:none;margin:8px 0 0;padding:0}
.tc-landing li{padding:6px 0;border-bottom:1px solid var(--color-border-default)}
.tc-landing li:last-child{border-bottom:0}
.tc-landing .tc-badge{display:inline-block;padding:0 6px;border-radius:4px;font-weight:600}
.tc-landing .tc-badge.tc-ok{background:var(--color-status-passed-bg);color:var(--color-status-passed-on-bg)}
.tc-landing .tc-badge.tc-fail{background:var(--color-status-failed-bg);color:var(--color-status-failed-on-bg)}
.tc-landing .tc-badge.tc-nv{background:var(--color-status-broken-bg);color:var(--color-status-broken-on-bg)}
.tc-landing .tc-trend span.tc-ok{color:var(--color-status-passed-text)}
.tc-landing .tc-trend span.tc-fail{color:var(--color-status-failed-text)}
.tc-landing .tc-trend span.tc-nv{color:var(--color-status-broken-text)}
.tc-landing .tc-endpoint{overflow-wrap:anywhere}
.tc-landing a{color:inherit;text-decoration:underline}`;

// The report app (Preact) owns #app and re-renders it; the block is appended to the container of the
// report header whenever that container is (re)built, and left alone otherwise. Test result pages
// have no report header, so the block shows on the overview only.
const PLACE = `(function(){
var tpl=document.getElementById('tc-landing-template');
function place(){
var title=document.querySelector('[data-testid="report-header"]');
var header=title&&title.parentElement&&title.parentElement.parentElement;
var host=header&&header.parentElement;
if(!host||!tpl)return;
var block=document.getElementById('tc-landing');
if(block&&block.parentElement===host&&host.lastElementChild===block)return;
host.appendChild(block||tpl.content.firstElementChild.cloneNode(true));
}
new MutationObserver(place).observe(document.documentElement,{childList:true,subtree:true});
})();`;

/** The landing block: a template, its style and the script that places it. */
export function landingBlock(data: LandingData): string {
  const { record } = data;
  const started = Date.parse(record.startedAt);
  const took = Date.parse(record.finishedAt) - started;
  const runs = [...record.providers].sort((a, b) => a.provider.name.localeCompare(b.provider.name));
  const section = [
    '<section id="tc-landing" class="tc-landing" data-testid="tc-landing">',
    `<h2>Verdict per provider</h2>`,
    `<div class="tc-run" data-testid="tc-run">Run started ${utc(started)} and took ${formatSeconds(took)} (observing and judging; the report was made after) · token-conformance ${esc(record.harnessVersion)} · ${record.strict ? 'strict: SHOULD failures fail the run' : 'not strict: SHOULD failures are warnings'}</div>`,
    `<ul>${runs.map((r) => providerLine(data, r)).join('')}</ul>`,
    '</section>',
  ].join('');
  return `<style>${STYLE}</style><template id="tc-landing-template">${section}</template><script>${PLACE}</script>`;
}

const OPTIONS = /(window\.allureReportOptions = )(\{.*\})(\s*\n)/;

/** The report's header states the run's real start and duration (see the file comment). */
function withRunSummary(html: string, record: RunRecord): string {
  const m = OPTIONS.exec(html);
  if (!m?.[2]) return html;
  const options = JSON.parse(m[2]) as {
    runSummary?: unknown;
    runSummaryByEnv?: Record<string, unknown>;
  };
  const start = Date.parse(record.startedAt);
  const stop = Date.parse(record.finishedAt);
  const summary = { start, stop, duration: stop - start };
  options.runSummary = summary;
  for (const env of Object.keys(options.runSummaryByEnv ?? {}))
    if (options.runSummaryByEnv) options.runSummaryByEnv[env] = summary;
  return html.replace(
    OPTIONS,
    (_all, head: string, _json: string, tail: string) => `${head}${JSON.stringify(options)}${tail}`,
  );
}

/** The donut's percentage over judged checks: passed / (passed + failed + unknown, i.e. SHOULD not met). */
function withJudgedRate(html: string): string {
  return html.replace(
    /d\("(widgets\/(?:[^"/]+\/)?pie_chart\.json)","([A-Za-z0-9+/=]*)"\)/g,
    (all, name: string, b64: string) => {
      const pie = JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as {
        slices?: { status?: string; count?: number }[];
        percentage?: number;
      };
      const n = (status: string) =>
        pie.slices?.filter((s) => s.status === status).reduce((a, s) => a + (s.count ?? 0), 0) ?? 0;
      const judged = n('passed') + n('failed') + n('unknown');
      pie.percentage = judged > 0 ? Math.floor((n('passed') / judged) * 10000) / 100 : 0;
      return `d("${name}","${Buffer.from(JSON.stringify(pie), 'utf8').toString('base64')}")`;
    },
  );
}

/** The generated single-file report, with the landing block and the two corrections. */
export function patchReport(html: string, data: LandingData): string {
  const patched = withJudgedRate(withRunSummary(html, data.record));
  const at = patched.lastIndexOf('</body>');
  const block = landingBlock(data);
  return at < 0 ? `${patched}${block}` : `${patched.slice(0, at)}${block}${patched.slice(at)}`;
}

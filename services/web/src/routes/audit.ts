import Router from '@koa/router';
import type Koa from 'koa';
import { AUDIT_EVENTS, readAuditTrail, recordAudit, type AuditRow } from '#shared/audit.js';
import { currentUser } from '../auth/current-user.js';
import { findUserByUsername } from '../auth/users.js';
import { pageNumber, pageToLoad, pagination, type PageDeps } from './page-helpers.js';

const PAGE_SIZE = 50;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

interface Filters {
  user: string;
  event: string;
  from: string;
  to: string;
}

function text(value: unknown, max: number): string {
  return typeof value === 'string' ? value.trim().slice(0, max) : '';
}

/** A calendar day as typed (YYYY-MM-DD) that exists. */
function isDay(value: string): boolean {
  return DATE.test(value) && new Date(`${value}T00:00:00.000Z`).toISOString().startsWith(value);
}

/** The filters' problems, in French, for a 400 page that keeps what was typed. */
function filterProblems(f: Filters): string[] {
  const problems: string[] = [];
  if (f.event && !(AUDIT_EVENTS as readonly string[]).includes(f.event)) problems.push('Événement inconnu.');
  for (const [name, value] of [
    ['Du', f.from],
    ['Au', f.to],
  ] as const) {
    if (value && !isDay(value)) problems.push(`Date « ${name} » invalide : attendu AAAA-MM-JJ.`);
  }
  if (problems.length === 0 && f.from && f.to && f.from > f.to)
    problems.push('La date « Du » est après la date « Au ».');
  return problems;
}

/**
 * GET /admin/audit (admin): the audit trail, newest first, 50 a page, filtered by user, event and
 * dates (UTC days). Each view is itself an audit row. Read-only: the trail is append-only.
 */
export function auditRoutes({ db, render }: PageDeps): Router {
  async function showAudit(ctx: Koa.Context) {
    const admin = currentUser(ctx);
    const filters: Filters = {
      user: text(ctx.query.user, 64),
      event: text(ctx.query.event, 40),
      from: text(ctx.query.from, 10),
      to: text(ctx.query.to, 10),
    };
    const page = pageNumber(ctx.query.page);
    const problems = filterProblems(filters);
    await recordAudit(db, {
      event: 'admin.page_viewed',
      outcome: problems.length ? 'invalid_filter' : 'succeeded',
      actorId: admin.id,
      actor: admin.username,
      details: { page: '/admin/audit', event: filters.event || null },
    });
    let rows: AuditRow[] = [];
    let hasNext = false;
    if (problems.length === 0 && pageToLoad(page) === page) {
      const user = filters.user ? await findUserByUsername(db, filters.user) : undefined;
      ({ rows, hasNext } = await readAuditTrail(
        db,
        {
          ...(filters.user ? { actorId: user ? Number(user.id) : null } : {}),
          event: filters.event,
          from: filters.from,
          to: filters.to,
        },
        { page, pageSize: PAGE_SIZE },
      ));
    }
    const params = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== ''));
    render(
      ctx,
      'audit.html',
      {
        title: 'Journal d’audit',
        page: 'audit',
        events: AUDIT_EVENTS,
        filters,
        problems,
        rows: rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> })),
        pagination: pagination('/admin/audit', params, page, PAGE_SIZE, hasNext, problems.length ? 1 : rows.length),
      },
      problems.length ? 400 : 200,
    );
  }

  return new Router().get('/admin/audit', showAudit);
}

import type Koa from 'koa';
import nunjucks from 'nunjucks';
import { csrfToken } from './auth/csrf.js';
import { addFormatFilters } from './format.js';

/** A token a flash message names, shown on one line in monospace (a transfer's reference). */
export interface FlashDetail {
  label: string;
  code: string;
}

export interface FlashMessage {
  type: 'success' | 'error' | 'info';
  message: string;
  detail?: FlashDetail;
}

export type Render = (ctx: Koa.Context, template: string, data: Record<string, unknown>, status?: number) => void;

/**
 * Nunjucks with autoescape. Every page gets the common context (user, CSRF token, flash
 * messages, request id, colour); flash messages are shown once then removed from the session.
 */
export function createRenderer(
  viewsDir: string,
  appColor: string,
  production: boolean,
  secretKey: string,
  timeZone: string,
): Render {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDir, { noCache: !production }), {
    autoescape: true,
    throwOnUndefined: false,
  });
  addFormatFilters(env, timeZone);
  return (ctx, template, data, status = 200) => {
    const session = ctx.session;
    const flash = (session?.flash as FlashMessage[] | undefined) ?? [];
    if (session && session.flash) delete session.flash;
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = env.render(template, {
      user: ctx.state.user ?? null,
      csrfToken: csrfToken(ctx, secretKey),
      requestId: ctx.state.requestId as string,
      appColor,
      flash,
      ...data,
    });
  };
}

/**
 * Queues a message for the next page the user sees (after a redirect). The same message twice
 * is kept once: a form sent twice (double click) reports its one outcome once.
 */
export function addFlash(ctx: Koa.Context, type: FlashMessage['type'], message: string, detail?: FlashDetail): void {
  if (!ctx.session) return;
  const list = (ctx.session.flash as FlashMessage[] | undefined) ?? [];
  const flash: FlashMessage = detail ? { type, message, detail } : { type, message };
  if (!list.some((f) => JSON.stringify(f) === JSON.stringify(flash))) list.push(flash);
  ctx.session.flash = list;
}

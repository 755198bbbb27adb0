import type Koa from 'koa';
import nunjucks from 'nunjucks';
import { csrfToken } from './auth/csrf.js';
import { addFormatFilters } from './format.js';

export interface FlashMessage {
  type: 'success' | 'error' | 'info';
  message: string;
}

export type Render = (ctx: Koa.Context, template: string, data: Record<string, unknown>, status?: number) => void;

/**
 * Nunjucks with autoescape. Every page gets the common context (user, CSRF token, flash
 * messages, request id, colour); flash messages are shown once then removed from the session.
 */
export function createRenderer(viewsDir: string, appColor: string, production: boolean, secretKey: string): Render {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDir, { noCache: !production }), {
    autoescape: true,
    throwOnUndefined: false,
  });
  addFormatFilters(env);
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

export function addFlash(ctx: Koa.Context, type: FlashMessage['type'], message: string): void {
  if (!ctx.session) return;
  const list = (ctx.session.flash as FlashMessage[] | undefined) ?? [];
  list.push({ type, message });
  ctx.session.flash = list;
}

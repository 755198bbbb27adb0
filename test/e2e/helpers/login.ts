/**
 * A browser's login, by hand: GET the form (session cookie + CSRF token), POST the credentials,
 * keep the cookies. Used through the gateway of each stack.
 */
import { header, http, type HttpResponse } from './http.js';

export class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(response: HttpResponse): void {
    const setCookie = response.headers['set-cookie'] ?? [];
    for (const line of Array.isArray(setCookie) ? setCookie : [setCookie]) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair && eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The `_csrf` hidden field of an HTML form. */
export function csrfToken(html: string): string {
  const match = /name="_csrf"\s+value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error(`no _csrf field in the page:\n${html.slice(0, 500)}`);
  return match[1];
}

/** GET a page with the jar's cookies, storing what the server sets. */
export async function getPage(baseUrl: string, path: string, jar: CookieJar): Promise<HttpResponse> {
  const response = await http(baseUrl + path, { headers: { Cookie: jar.header() } });
  jar.store(response);
  return response;
}

/** POST an urlencoded form (with the CSRF token of `formPath`) and return the raw answer. */
export async function submitForm(
  baseUrl: string,
  formPath: string,
  fields: Record<string, string>,
  jar: CookieJar,
): Promise<HttpResponse> {
  const form = await getPage(baseUrl, formPath, jar);
  if (form.status !== 200) throw new Error(`GET ${formPath} answered ${form.status}`);
  const body = new URLSearchParams({ ...fields, _csrf: csrfToken(form.body) }).toString();
  const response = await http(baseUrl + formPath, {
    method: 'POST',
    headers: { Cookie: jar.header(), 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  });
  jar.store(response);
  return response;
}

/** Logs in and returns the jar; throws unless the server redirects to /dashboard. */
export async function login(baseUrl: string, username: string, password: string): Promise<CookieJar> {
  const jar = new CookieJar();
  const response = await submitForm(baseUrl, '/login', { username, password }, jar);
  if (response.status !== 302 || !header(response, 'location')?.endsWith('/dashboard')) {
    throw new Error(`login of ${username} answered ${response.status} ${header(response, 'location') ?? ''}`);
  }
  return jar;
}

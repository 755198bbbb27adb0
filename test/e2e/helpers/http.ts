/**
 * Small HTTP client for the e2e tests: one request, no redirect following, no keep-alive, a
 * bounded time; plus a poller that waits for a URL to answer a given status.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** The CA (PEM) that https:// URLs are verified with, besides Node's own list (a local CA). */
let trustedCa: string | undefined;
export function trustCertificateAuthority(pem: string | undefined): void {
  trustedCa = pem;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function http(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = request(
      url,
      {
        ca: trustedCa,
        method: options.method ?? 'GET',
        headers: { Connection: 'close', ...options.headers },
        timeout: options.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${options.method ?? 'GET'} ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Polls url until it answers `status` (default 200); throws with the last answer on timeout. */
export async function waitForStatus(
  url: string,
  { status = 200, timeoutMs = 120_000, intervalMs = 1_000 } = {},
): Promise<HttpResponse> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const response = await http(url, { timeoutMs: 5_000 });
      if (response.status === status) return response;
      last = `HTTP ${response.status} ${response.body.slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

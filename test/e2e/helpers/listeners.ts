import { runOk } from './compose.js';

/**
 * The host's listening TCP sockets on `port`, as `ss -ltn` shows them (local address column):
 * what another machine could connect to (`0.0.0.0:5002`) or not (`127.0.0.1:5002`).
 */
export async function hostListeners(port: number): Promise<string[]> {
  const out = await runOk('ss', ['-ltnH']);
  const addresses = out
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[3] ?? '')
    .filter((address) => address.endsWith(`:${port}`));
  console.log(`      ss -ltn, port ${port}: ${addresses.join(' ') || '(nothing)'}`);
  return addresses;
}

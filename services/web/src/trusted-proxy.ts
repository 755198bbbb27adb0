import { BlockList, isIP } from 'node:net';
import type Koa from 'koa';
import { ConfigError, type Env } from '#shared/config.js';

/**
 * Which peer may say who the client is (X-Forwarded-For, -Proto, -Host): nobody (`false`, the
 * default: the service faces the clients), the direct peer whoever it is (`true`: only where the
 * gateway is the one way in, as in the Compose stacks' internal network), or only peers in a
 * list of addresses and CIDR ranges (`TRUST_PROXY=10.0.0.2,172.16.0.0/12`).
 */
export type TrustProxy = boolean | { addresses: string[] };

export function readTrustProxy(env: Env): TrustProxy {
  const value = env.TRUST_PROXY?.trim();
  if (value === undefined || value === '' || ['false', '0', 'no'].includes(value.toLowerCase())) return false;
  if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
  const addresses = value.split(',').map((a) => a.trim());
  for (const address of addresses) {
    const [ip = '', bits, extra] = address.split('/');
    const family = isIP(ip);
    const max = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))) {
      throw new ConfigError(
        'TRUST_PROXY',
        `must be true, false or a list of IP addresses or CIDR ranges, got "${address}"`,
      );
    }
  }
  return { addresses };
}

function blockList(addresses: string[]): BlockList {
  const list = new BlockList();
  for (const address of addresses) {
    const [ip = '', bits] = address.split('/');
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(ip, family);
    else list.addSubnet(ip, Number(bits), family);
  }
  return list;
}

/**
 * With a list, forwarded headers from any other peer are dropped before Koa reads them: ctx.ip
 * (the login throttle's per-address count) and ctx.secure are then the socket's own.
 */
export function forwardedHeadersFromTrustedProxyOnly(trust: TrustProxy): Koa.Middleware {
  const list = typeof trust === 'object' ? blockList(trust.addresses) : undefined;
  return async function dropUntrustedForwardedHeaders(ctx, next) {
    if (list && !isTrusted(list, ctx.req.socket.remoteAddress ?? '')) {
      for (const header of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']) delete ctx.req.headers[header];
    }
    await next();
  };
}

function isTrusted(list: BlockList, peer: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(peer)?.[1];
  if (mapped) return list.check(mapped, 'ipv4');
  return isIP(peer) === 6 ? list.check(peer, 'ipv6') : isIP(peer) === 4 && list.check(peer, 'ipv4');
}

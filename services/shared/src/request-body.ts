import type Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import { badRequest, unsupportedMediaType } from './errors.js';

export type BodyType = 'form' | 'json';
export type CompressedEncoding = 'gzip' | 'deflate' | 'br';

export interface BodyRules {
  /** The one body type the service reads: HTML forms (web) or JSON (transactions). */
  type: BodyType;
  /** Content-Encodings accepted besides identity. */
  encodings: readonly CompressedEncoding[];
  /** Largest body accepted, after decompression (koa-bodyparser's limit). */
  limit: string;
}

const MEDIA: Record<BodyType, { mime: string; wanted: string }> = {
  form: {
    mime: 'application/x-www-form-urlencoded',
    wanted: 'Cette adresse attend un formulaire (Content-Type: application/x-www-form-urlencoded).',
  },
  json: { mime: 'application/json', wanted: 'Cette API attend un corps JSON (Content-Type: application/json).' },
};

/**
 * Reads the request body, refusing what the service does not read before any work is spent on
 * it: another content type → 415, a Content-Encoding outside `encodings` → 415, a compressed
 * body that does not decompress → 400. The size limit applies to the decompressed bytes.
 * A request without a body (or an empty one) goes through with an empty body.
 */
export function parseBody(rules: BodyRules): Koa.Middleware {
  const media = MEDIA[rules.type];
  const parser = bodyParser({
    enableTypes: [rules.type],
    ...(rules.type === 'form' ? { formLimit: rules.limit } : { jsonLimit: rules.limit }),
    strict: true,
  });
  const accepted = ['identity', ...rules.encodings];
  const noop = () => Promise.resolve();

  return async function readBody(ctx, next) {
    const hasBody = ctx.request.length > 0 || ctx.get('Transfer-Encoding') !== '';
    if (hasBody && !ctx.request.is(media.mime)) throw unsupportedMediaType('unsupported_media_type', media.wanted);
    const encoding = (ctx.get('Content-Encoding') || 'identity').trim().toLowerCase();
    if (!accepted.includes(encoding)) {
      throw unsupportedMediaType(
        'unsupported_encoding',
        `Encodage du corps non pris en charge (Content-Encoding: ${encoding.slice(0, 40)}) : ` +
          `acceptés : ${accepted.join(', ')}.`,
      );
    }
    try {
      await parser(ctx, noop);
    } catch (err) {
      const status = (err as { status?: unknown } | null)?.status;
      // zlib and brotli stream errors carry no HTTP status: the compressed bytes are corrupt.
      if (typeof status !== 'number' && encoding !== 'identity') {
        throw badRequest(
          'malformed_encoding',
          `Le corps compressé (Content-Encoding: ${encoding}) est illisible : il ne se décompresse pas.`,
        );
      }
      throw err;
    }
    await next();
  };
}

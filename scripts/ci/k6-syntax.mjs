// Parses every k6 script the way k6 v0.51.0 does before running it, so a construct k6 rejects
// fails `npm run lint` instead of the k6 step on GitHub (exit 107 there).
//
// k6 0.51 compiles scripts with an embedded Babel 6 parser: it accepts ES2017 modules
// (async/await, `**`) and rejects what came later: optional catch binding (`catch {`), `??`, `?.`,
// object spread/rest. An ES2017 module parse by acorn rejects exactly those, and type-checking
// against @types/k6 (tsconfig in k6/) does not, since TypeScript accepts every later syntax.
//
// Usage: node scripts/ci/k6-syntax.mjs [file.js...]   (default: every k6/*.js)
// Exit 1 when a file does not parse, with file:line:column and the reason.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'acorn';

export const K6_GRAMMAR = { ecmaVersion: 2017, sourceType: 'module', locations: true };

/** Returns null when `source` parses as k6 0.51 would parse it, else "line:column: reason". */
export function k6SyntaxError(source) {
  try {
    parse(source, K6_GRAMMAR);
    return null;
  } catch (error) {
    if (!(error instanceof SyntaxError) || !error.loc) throw error;
    return `${error.loc.line}:${error.loc.column + 1}: ${error.message.replace(/ \(\d+:\d+\)$/, '')}`;
  }
}

async function defaultFiles() {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../k6');
  return (await readdir(dir))
    .filter((name) => name.endsWith('.js'))
    .sort()
    .map((name) => path.join(dir, name));
}

async function main(args) {
  const files = args.length > 0 ? args : await defaultFiles();
  let failures = 0;
  for (const file of files) {
    const problem = k6SyntaxError(await readFile(file, 'utf8'));
    if (problem) {
      console.error(`${path.relative(process.cwd(), file)}:${problem} (k6 0.51 accepts ES2017 only)`);
      failures += 1;
    }
  }
  console.log(`k6-syntax: ${files.length} script(s) parsed as ES2017 modules, ${failures} rejected`);
  return failures === 0 ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}

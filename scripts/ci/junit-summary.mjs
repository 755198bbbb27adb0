// Prints one plain summary line, "N passed, N failed", from the JUnit files given as arguments
// (the root <testsuites> element of each), so CI logs end with a count a reader can quote.
import { readFileSync } from 'node:fs';

let tests = 0;
let failures = 0;
for (const file of process.argv.slice(2)) {
  const root = /<testsuites\b[^>]*>/.exec(readFileSync(file, 'utf8'))?.[0] ?? '';
  const attrs = Object.fromEntries([...root.matchAll(/(\w+)="(\d+)"/g)].map(([, k, v]) => [k, Number(v)]));
  tests += attrs.tests ?? 0;
  failures += (attrs.failures ?? 0) + (attrs.errors ?? 0);
}
console.log(`${tests - failures} passed, ${failures} failed`);
process.exitCode = tests > 0 && failures === 0 ? 0 : 1;

// Completes the build in dist/: the web service's templates and static files next to the compiled
// JavaScript (services/web/src/app.ts resolves them relative to its own file), and a package.json
// whose `imports` map (#shared/*, #web/*, …) resolves to the compiled files, as the root one does
// to the sources.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

for (const dir of ['views', 'static']) {
  const target = `dist/services/web/${dir}`;
  rmSync(target, { recursive: true, force: true });
  cpSync(`services/web/${dir}`, target, { recursive: true });
}

const root = JSON.parse(readFileSync('package.json', 'utf8'));
const dist = { name: root.name, version: root.version, private: true, type: root.type, imports: root.imports };
writeFileSync('dist/package.json', `${JSON.stringify(dist, null, 2)}\n`);

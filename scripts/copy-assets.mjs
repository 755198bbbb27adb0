// Copies the web service's templates and static files next to the compiled JavaScript, where
// the app looks for them (services/web/src/app.ts resolves them relative to its own file).
import { cpSync, rmSync } from 'node:fs';

for (const dir of ['views', 'static']) {
  const target = `dist/services/web/${dir}`;
  rmSync(target, { recursive: true, force: true });
  cpSync(`services/web/${dir}`, target, { recursive: true });
}

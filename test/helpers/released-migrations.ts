import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import ts from 'typescript';

/**
 * What each released version (a commit that landed on main) runs when it migrates a database:
 * its migrations, in order, and the sha256 of every file they run, i.e. each migration file and
 * every file of this repository it imports, directly or through another file (type-only imports
 * excluded: they do not run). A database that applied a migration never applies it again, so if
 * one of these files changes, a fresh database and an upgraded one no longer get the same schema:
 * test/unit/migrations-released.test.ts refuses it. The manifest is released.json, written by
 * `npm run migrations:release -- <commit>` (migrations-release.ts) from git; the test
 * reads only the manifest and the working tree (CI checkouts are shallow).
 */
export interface Release {
  commit: string;
  /** When the commit landed (committer date, UTC). */
  landed: string;
  /** The migration names that release applies, in the order it applies them. */
  migrations: string[];
  /** Repository path → sha256 (hex) of every file those migrations run. */
  files: Record<string, string>;
}

/**
 * A change to a file a shipped migration imports (never to a migration file) that a person has
 * read and found unable to alter what those migrations do: e.g. a new export beside the function
 * the migration calls. Recorded with the file's new checksum, so a later change needs a new review.
 */
export interface ReviewedChange {
  path: string;
  sha256: string;
  why: string;
}

export interface ReleaseManifest {
  releases: Release[];
  reviewed?: ReviewedChange[];
}

export const MANIFEST_PATH = 'services/shared/src/migrations/released.json';

/** Where the migration files are: `services/<service>/src/migrations/<name>.ts`. */
export const MIGRATION_FILE = /^services\/[a-z]+\/src\/migrations\/(\d{14}_[a-z0-9_]+)\.ts$/;

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** The package.json "imports" aliases (#shared/x.js → services/shared/src/x.ts). */
const ALIASES: Record<string, string> = {
  '#shared/': 'services/shared/src/',
  '#web/': 'services/web/src/',
  '#transactions/': 'services/transactions/src/',
  '#jobs/': 'services/jobs/src/',
};

/**
 * The repository files a TypeScript file imports at run time, as repository paths. Packages and
 * `node:` modules are not followed (package-lock.json pins them); `import type` is skipped.
 */
export function repoImports(path: string, source: string): string[] {
  const found: string[] = [];
  for (const node of ts.createSourceFile(path, source, ts.ScriptTarget.Latest).statements) {
    let specifier: ts.Expression | undefined;
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) specifier = node.moduleSpecifier;
    if (ts.isExportDeclaration(node) && !node.isTypeOnly) specifier = node.moduleSpecifier;
    if (!specifier || !ts.isStringLiteral(specifier)) continue;
    const target = specifier.text.startsWith('.')
      ? posix.normalize(posix.join(posix.dirname(path), specifier.text))
      : Object.entries(ALIASES)
          .filter(([alias]) => specifier.text.startsWith(alias))
          .map(([alias, dir]) => dir + specifier.text.slice(alias.length))[0];
    if (target) found.push(target.replace(/\.js$/, '.ts'));
  }
  return found;
}

/**
 * The files `migrationPaths` run, with their sha256: the migrations and, transitively, what they
 * import from the repository. `read` returns a file's content (from git or from the disk).
 */
export function filesRun(migrationPaths: string[], read: (path: string) => string): Record<string, string> {
  const files: Record<string, string> = {};
  const pending = [...migrationPaths];
  while (pending.length > 0) {
    const path = pending.pop()!;
    if (path in files) continue;
    const content = read(path);
    files[path] = sha256(content);
    pending.push(...repoImports(path, content));
  }
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
}

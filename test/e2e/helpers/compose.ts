/**
 * A Compose project driven from the e2e tests through scripts/lib/compose.sh, so the tests run the
 * same `docker compose` / `docker-compose` the pipeline scripts use. Base images come from the
 * environment (NODE_IMAGE, POSTGRES_IMAGE, NGINX_IMAGE), as scripts/e2e.sh exports them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const COMPOSE_SH = path.join(ROOT, 'scripts/lib/compose.sh');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; never rejects on a non-zero exit (the caller decides), only on a timeout. */
export function run(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        cwd: options.cwd ?? ROOT,
        env: { ...process.env, ...options.env },
        timeout: options.timeoutMs ?? 300_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException & { killed?: boolean }).killed) {
          reject(new Error(`${file} ${args.join(' ')} timed out\n${stderr}`));
          return;
        }
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    // A command that exits without reading its input (`ss`, most of them) may have closed the pipe
    // before this write or end reaches it (EPIPE): its exit code and output say what happened.
    child.stdin?.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ENOTCONN') reject(err);
    });
    if (options.input === undefined) child.stdin?.end();
    else child.stdin?.end(options.input);
  });
}

/** Like run, but throws with the command's output when it exits non-zero. */
export async function runOk(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  const result = await run(file, args, options);
  if (result.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

export class ComposeStack {
  constructor(
    readonly project: string,
    readonly file: string,
    readonly env: NodeJS.ProcessEnv = {},
    /** Profiles whose services `down` removes too (Compose v2 leaves them running otherwise). */
    readonly profiles: string[] = [],
  ) {}

  /** compose -p PROJECT -f FILE ARGS…; resolves with the result whatever the exit code. */
  run(args: string[], timeoutMs = 600_000, input?: string): Promise<RunResult> {
    return run('bash', [COMPOSE_SH, '-p', this.project, '-f', path.join(ROOT, this.file), ...args], {
      env: this.env,
      timeoutMs,
      input,
    });
  }

  /** Same, but throws with the output (and the stack's state) on a non-zero exit. */
  async ok(args: string[], timeoutMs = 600_000, input?: string): Promise<string> {
    const result = await this.run(args, timeoutMs, input);
    if (result.code !== 0) {
      throw new Error(
        `compose ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}\n${await this.diagnostics()}`,
      );
    }
    return result.stdout;
  }

  /** Removes the project's containers, networks and (by default) volumes. */
  async down(volumes = true): Promise<void> {
    const profiles = this.profiles.flatMap((profile) => ['--profile', profile]);
    await this.ok([...profiles, 'down', '--remove-orphans', '--timeout', '20', ...(volumes ? ['-v'] : [])]);
  }

  /** The id of a service's container ('' when it has none). */
  async containerId(service: string): Promise<string> {
    return (await this.ok(['ps', '-q', service])).trim();
  }

  async logs(service?: string): Promise<string> {
    const result = await this.run(['logs', '--no-color', ...(service ? [service] : [])]);
    return result.stdout + result.stderr;
  }

  /** `ps` and the last log lines, for a failed test's message. */
  async diagnostics(): Promise<string> {
    const ps = await this.run(['ps']);
    const logs = await this.run(['logs', '--no-color', '--tail', '60']);
    return `--- ${this.project}: ps ---\n${ps.stdout}${ps.stderr}\n--- logs ---\n${logs.stdout}${logs.stderr}`;
  }
}

/** A throwaway env file (the stacks read their secrets from ENV_FILE); removed by cleanup(). */
export class TempEnvFile {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'bank-e2e-env-'));
  readonly path = path.join(this.dir, 'stack.env');

  constructor(vars: Record<string, string>) {
    writeFileSync(
      this.path,
      Object.entries(vars)
        .map(([key, value]) => `${key}=${value}`)
        .join('\n') + '\n',
      { mode: 0o600 },
    );
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `docker inspect` of one container, parsed. */
export async function inspect(containerId: string): Promise<{
  RestartCount: number;
  State: { StartedAt: string; Status: string; Health?: { Status: string } };
  NetworkSettings: { Ports: Record<string, unknown>; Networks: Record<string, { IPAddress: string }> };
}> {
  const [info] = JSON.parse(await runOk('docker', ['inspect', containerId])) as Array<
    Awaited<ReturnType<typeof inspect>>
  >;
  if (!info) throw new Error(`no container ${containerId}`);
  return info;
}

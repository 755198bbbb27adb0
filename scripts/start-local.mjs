// `npm start`: runs the database job (migrate, then the demo seed if there is no user), then the
// transactions service and the web service natively on SQLite (web on http://localhost:5000),
// prints their JSON logs as readable lines, and stops both on Ctrl-C. Each run signs the internal
// calls and the session cookies with fresh random secrets (scripts/start-local-env.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { localEnvironments } from './start-local-env.mjs';

const envs = localEnvironments(process.env);
const services = [
  { name: 'transactions', entry: 'dist/services/transactions/src/server.js', env: envs.transactions },
  { name: 'web', entry: 'dist/services/web/src/server.js', env: envs.web },
];

const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'msg', 'name', 'service', 'pid', 'hostname']);

function pretty(name, line) {
  try {
    const entry = JSON.parse(line);
    const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : '';
    const extra = Object.entries(entry)
      .filter(([key]) => !SKIP.has(key))
      .map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : value}`)
      .join(' ');
    return `${time} ${LEVELS[entry.level] ?? entry.level} [${name}] ${entry.msg ?? ''} ${extra}`.trimEnd();
  } catch {
    return `[${name}] ${line}`;
  }
}

const job = spawnSync(process.execPath, ['dist/services/jobs/src/cli.js', 'migrate', 'seed'], {
  env: envs.job,
  encoding: 'utf8',
});
for (const line of `${job.stdout ?? ''}${job.stderr ?? ''}`.split('\n').filter(Boolean))
  console.log(pretty('db', line));
if (job.status !== 0) {
  console.log(`[db] the database job failed (${job.signal ?? job.status}): the services are not started`);
  process.exit(1);
}

let stopping = false;
const children = services.map(({ name, entry, env }) => {
  const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(pretty(name, line)));
  }
  child.on('exit', (code, signal) => {
    console.log(`[${name}] exited (${signal ?? code})`);
    if (!stopping) stop(code === 0 ? 1 : (code ?? 1));
  });
  return child;
});

function stop(exitCode = 0) {
  if (stopping) return;
  stopping = true;
  let running = children.filter((c) => c.exitCode === null && c.signalCode === null).length;
  if (running === 0) process.exit(exitCode);
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.once('exit', () => {
      running -= 1;
      if (running === 0) process.exit(exitCode);
    });
    child.kill('SIGTERM');
  }
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

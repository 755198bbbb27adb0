import { readFileSync } from 'node:fs';
import { ConfigError, withSecretFiles, type BaseConfig, type Env, type ServiceName } from './config.js';
import { createLogger, type Logger } from './logger.js';

function packageVersion(): string {
  // package.json sits at the project root, above both src/ and dist/services/<name>/src.
  for (const relative of ['../../../package.json', '../../../../package.json']) {
    try {
      const json = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (json.name === 'fintech-test' && json.version) return json.version;
    } catch {
      // try the next location
    }
  }
  return '0.0.0';
}

/**
 * Entry point shared by the server files and the database job: validated config (a bad variable
 * stops the process with a message naming it), one logger, and any start-up failure logged
 * before exiting 1.
 */
export async function runMain<C extends BaseConfig>(
  service: ServiceName,
  load: (env: Env, version: string) => C,
  start: (config: C, logger: Logger) => Promise<void>,
): Promise<void> {
  let config: C;
  try {
    config = load(withSecretFiles(process.env), packageVersion());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`[${service}] ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(service, config.logLevel);
  try {
    await start(config, logger);
  } catch (err) {
    logger.fatal({ err }, 'start-up failed');
    process.exit(1);
  }
}

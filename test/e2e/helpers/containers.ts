/**
 * The containers of one Compose service (its replicas), by the labels Compose puts on them: the
 * one `docker ps` filter the e2e tests and bench/replicas.ts share, so both count replicas alike.
 */
import { runOk } from './compose.js';

/** `docker ps` arguments printing the ids of `service`'s containers in `project` (running ones, or all). */
export function serviceContainersArgs(project: string, service: string, all = false): string[] {
  return [
    'ps',
    ...(all ? ['-a'] : []),
    '-q',
    '--filter',
    `label=com.docker.compose.project=${project}`,
    '--filter',
    `label=com.docker.compose.service=${service}`,
  ];
}

/** The ids printed by `docker ps -q`. */
export const idsOf = (output: string): string[] => output.split('\n').filter(Boolean);

/** Ids of the containers of `service` in `project`: running ones, or in any state with `all`. */
export async function serviceContainers(project: string, service: string, all = false): Promise<string[]> {
  return idsOf(await runOk('docker', serviceContainersArgs(project, service, all)));
}

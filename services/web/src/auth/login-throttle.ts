/**
 * Counts failed logins per username and per client IP in a sliding window. Beyond the limit the
 * login answers 429 without checking the password. Kept in memory (per process): bounded in size
 * and enough for a demo bank; a shared store would be the next step for many replicas.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  private static readonly MAX_KEYS = 100_000;

  constructor(
    private readonly maxPerUser: number,
    private readonly maxPerIp: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  isBlocked(username: string, ip: string): boolean {
    return this.count(`u:${username.toLowerCase()}`) >= this.maxPerUser || this.count(`ip:${ip}`) >= this.maxPerIp;
  }

  recordFailure(username: string, ip: string): void {
    for (const key of [`u:${username.toLowerCase()}`, `ip:${ip}`]) {
      if (!this.failures.has(key) && this.failures.size >= LoginThrottle.MAX_KEYS) {
        const oldest = this.failures.keys().next().value;
        if (oldest !== undefined) this.failures.delete(oldest);
      }
      const list = this.recent(key);
      list.push(this.now());
      this.failures.set(key, list);
    }
  }

  recordSuccess(username: string): void {
    this.failures.delete(`u:${username.toLowerCase()}`);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }

  private count(key: string): number {
    return this.recent(key).length;
  }
}

/**
 * A token bucket that rate-limits rare actions such as drop alerts: it starts full with
 * `maxTokens`, gains `ratePerSecond` tokens per second of the caller's clock up to `maxTokens`,
 * and each action takes one. Falco limits its syscall event drop actions the same way.
 */
export class TokenBucket {
  private tokens: number
  private lastRefillNs: bigint

  constructor(
    private readonly ratePerSecond: number,
    private readonly maxTokens: number,
    nowNs: bigint,
  ) {
    if (!(ratePerSecond >= 0)) throw new RangeError('ratePerSecond must be 0 or more')
    if (!(maxTokens >= 1)) throw new RangeError('maxTokens must be at least 1')
    this.tokens = maxTokens
    this.lastRefillNs = nowNs
  }

  /** Takes one token and returns true, or returns false when fewer than one is left. */
  tryTake(nowNs: bigint): boolean {
    if (nowNs > this.lastRefillNs) {
      const elapsedSeconds = Number(nowNs - this.lastRefillNs) / 1e9
      this.tokens = Math.min(this.maxTokens, this.tokens + elapsedSeconds * this.ratePerSecond)
      this.lastRefillNs = nowNs
    }
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}

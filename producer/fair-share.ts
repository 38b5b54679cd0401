/**
 * Picks the live events that still get published once the producer buffer is full. Each process
 * may place `perProcessPerSecond` events a second in a reserve above the buffer limit; the rest
 * are shed. A process that floods syscalls, as one hiding an attack in noise would, then fills
 * the buffer with its own events without crowding out the few events of the quiet processes,
 * which are most of what rules look for.
 *
 * The counts restart each second of the caller's clock and cover at most `maxProcesses`
 * processes a second, so memory stays bounded when many short processes flood together.
 */
export class FairShare {
  private readonly counts = new Map<number, number>()
  private windowStartMs = Number.NEGATIVE_INFINITY

  constructor(
    private readonly perProcessPerSecond: number,
    private readonly maxProcesses = 65_536,
  ) {
    if (!(perProcessPerSecond >= 0)) {
      throw new RangeError(`perProcessPerSecond must be 0 or more, got ${perProcessPerSecond}`)
    }
  }

  /**
   * Reserves a place for one event of process `pid` and returns true. Returns false when the
   * process has used its share this second, or when a new process finds the count table full.
   */
  tryTake(pid: number, nowMs: number): boolean {
    if (this.perProcessPerSecond === 0) return false
    if (nowMs - this.windowStartMs >= 1000) {
      this.counts.clear()
      this.windowStartMs = nowMs
    }
    const placed = this.counts.get(pid) ?? 0
    if (placed >= this.perProcessPerSecond) return false
    if (placed === 0 && this.counts.size >= this.maxProcesses) return false
    this.counts.set(pid, placed + 1)
    return true
  }
}

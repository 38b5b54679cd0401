import type { SyscallEvent } from '../schemas/types.js'

/** Counts a source reports while and after it runs. */
export interface SourceStats {
  /** Events handed to the producer. */
  eventsRead: number
  /** Input records the source skipped, by reason (enter events, unsupported types and so on). */
  skipped: Record<string, number>
  /** Records lost before the producer saw them, by cause (kernel ring full, parse failure...). */
  dropped: Record<string, number>
  /** Records the kernel probe wrote to its ring since it opened (live sources only). */
  kernelRecords?: number
}

/**
 * A stream of self-contained events: a capture file, an event file, the live eBPF probe or a
 * generator. The producer pulls events through `events()`. A file source that is not read simply
 * waits; a live source cannot, so the producer keeps reading it and sheds what Kafka cannot take.
 */
export interface EventSource {
  /** Short description for logs, such as `capture:/path/file.scap`. */
  readonly name: string
  /**
   * True for a source whose events happen whether or not they are read (the kernel probe). The
   * producer drops such events when its buffer is full instead of pausing the source.
   */
  readonly isLive?: boolean
  /**
   * Yields events in order until the input ends or `signal` aborts. Throws SourceError when the
   * input cannot be read; events already yielded stay valid.
   */
  events: (signal: AbortSignal) => AsyncIterable<SyscallEvent>
  stats: () => SourceStats
  /** Releases files, child processes or kernel resources. Safe to call more than once. */
  close: () => Promise<void>
}

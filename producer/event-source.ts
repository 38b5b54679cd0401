import type { SyscallEvent } from '../schemas/types.js'

/** Counts a source reports while and after it runs. */
export interface SourceStats {
  /** Events handed to the producer. */
  eventsRead: number
  /** Input records the source skipped, by reason (enter events, unsupported types and so on). */
  skipped: Record<string, number>
  /** Records lost before the producer saw them, by cause (kernel ring full, parse failure...). */
  dropped: Record<string, number>
}

/**
 * A stream of self-contained events: a capture file, an event file, the live eBPF probe or a
 * generator. The producer pulls batches through `events()`, so a source never runs ahead of Kafka
 * by more than the batch it is building; a live source that cannot wait counts what it sheds in
 * `stats().dropped`.
 */
export interface EventSource {
  /** Short description for logs, such as `capture:/path/file.scap`. */
  readonly name: string
  /**
   * Yields events in order until the input ends or `signal` aborts. Throws SourceError when the
   * input cannot be read; events already yielded stay valid.
   */
  events: (signal: AbortSignal) => AsyncIterable<SyscallEvent>
  stats: () => SourceStats
  /** Releases files, child processes or kernel resources. Safe to call more than once. */
  close: () => Promise<void>
}

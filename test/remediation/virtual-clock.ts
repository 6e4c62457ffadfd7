/**
 * A test clock that jumps forward in days while moto_server keeps stamping real time.
 *
 * moto cannot backdate a key's CreateDate or LastUsedDate: it stamps the real time of the
 * request. A lifecycle test moves its decision clock forward instead ("day 91"), and events
 * that happen after a jump (a key used "on day 95") must then appear at that virtual time
 * too. The clock keeps segments (real instant → virtual instant) and maps every timestamp
 * moto returns to the segment it was stamped in; timestamps from before the first jump stay
 * as they are. The code under test is unchanged and talks to moto over HTTP; only the time
 * axis of the test's IAM client is shifted, consistently for all timestamps.
 */
import type { IAMClient } from '@aws-sdk/client-iam';

export class VirtualClock {
  private readonly segments: { real: number; virtual: number }[];

  constructor(private readonly realNow: () => number = Date.now) {
    const start = realNow();
    this.segments = [{ real: start, virtual: start }];
  }

  /** From this real instant on, the test's time is `virtual` (plus the real time that passes). */
  jumpTo(virtual: Date): void {
    const real = this.realNow();
    const last = this.segments[this.segments.length - 1];
    if (last && virtual.getTime() < last.virtual + (real - last.real)) throw new Error('the virtual clock only moves forward');
    this.segments.push({ real, virtual: virtual.getTime() });
  }

  /** The test's current time. */
  now(): Date {
    return this.toVirtual(new Date(this.realNow()));
  }

  /** A real timestamp (as moto stamped it) on the test's time axis. */
  toVirtual(real: Date): Date {
    const t = real.getTime();
    let segment = this.segments[0] as { real: number; virtual: number };
    for (const s of this.segments) if (s.real <= t) segment = s;
    return new Date(segment.virtual + (t - segment.real));
  }

  /** Map every Date in every response of `client` to the test's time axis. Returns the client. */
  attach<T extends IAMClient>(client: T): T {
    client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        this.mapDates(result.output);
        return result;
      },
      { step: 'initialize', name: 'keyageVirtualClock' },
    );
    return client;
  }

  private mapDates(value: unknown): void {
    if (value === null || typeof value !== 'object') return;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v instanceof Date) (value as Record<string, unknown>)[k] = this.toVirtual(v);
      else this.mapDates(v);
    }
  }
}

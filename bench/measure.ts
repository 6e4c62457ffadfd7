/**
 * What one benchmark run costs its process: wall time, CPU time and peak RSS. RSS is sampled
 * every 10 ms; a run in a process of its own also reads the kernel's `maxRSS`, which no sample
 * can miss.
 */

export interface RunCost {
  readonly wallMs: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  readonly peakRssBytes: number;
  readonly startRssBytes: number;
  /** `maxRSS` (own process) or `sampled`. */
  readonly rssSource: 'maxRSS' | 'sampled';
}

/** Start measuring now; `stop` ends it (call it once, after the run, failed or not). */
export function startMeasuring(ownProcess: boolean): { stop(): RunCost } {
  const startRss = process.memoryUsage().rss;
  let peak = startRss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  sampler.unref();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    stop(): RunCost {
      clearInterval(sampler);
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      peak = Math.max(peak, process.memoryUsage().rss);
      return {
        wallMs,
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
        peakRssBytes: ownProcess ? Math.max(peak, process.resourceUsage().maxRSS * 1024) : peak,
        startRssBytes: startRss,
        rssSource: ownProcess ? 'maxRSS' : 'sampled',
      };
    },
  };
}

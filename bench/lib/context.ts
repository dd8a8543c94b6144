import { startUpstream, type RecordingUpstream } from '../../test/helpers/upstream.js';
import type { BenchContext } from './candidate.js';
import { startUpstreamNginx } from './nginx.js';
import type { BenchOptions } from './options.js';

/** A started {@link BenchContext} and the teardown of everything it started. */
export interface OpenBenchContext {
  readonly ctx: BenchContext;
  /** Runs the registered cleanups (last first), then stops the nginx and echo upstreams. */
  close(): Promise<void>;
}

/** Starts the shared nginx upstream (pinned to the proxy CPU) and builds the context candidates get. */
export async function openBenchContext(
  opts: BenchOptions,
  dir: string,
  log: (line: string) => void,
): Promise<OpenBenchContext> {
  const upstream = await startUpstreamNginx(opts.proxyCpu);
  let echo: Promise<RecordingUpstream> | undefined;
  const teardown: (() => Promise<void> | void)[] = [];
  const ctx: BenchContext = {
    opts,
    dir,
    upstream,
    echo: () => (echo ??= startUpstream()),
    shared: new Map(),
    cleanup: (fn) => teardown.push(fn),
    log,
  };
  return {
    ctx,
    async close() {
      for (const fn of teardown.reverse()) await Promise.resolve(fn()).catch(() => undefined);
      await upstream.stop();
      if (echo) await (await echo).close();
    },
  };
}

/*
 * Preloaded (NODE_OPTIONS=--require) into every Node process of a benchmarked
 * command when GNU time is not installed: appends the process's peak RSS in
 * KiB (getrusage ru_maxrss, the same figure `/usr/bin/time -f %M` reports and
 * /proc/<pid>/status calls VmHWM) to $BENCH_MAXRSS_FILE at exit.
 */
'use strict';
const file = process.env.BENCH_MAXRSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      require('fs').appendFileSync(file, `${process.resourceUsage().maxRSS}\n`);
    } catch {
      /* best effort */
    }
  });
}

/**
 * Node flags the API process runs with, wherever it is started: `npm run api`, the demo, the
 * image's default command, docker-compose.yml and deploy/k8s/api.yaml (test/deploy-config.test.ts
 * keeps those in step), and bench:api, so the benchmark measures the process as it is deployed.
 *
 * The young generation is capped at 32 MB per semi-space (Node's default is 16). Measured with
 * bench:api pages (1,000 rows at 200 requests/s for 30 s, 10M rows, alternating runs on the machine
 * of 2026-12-02):
 * - 16 MB: about 200 scavenges per 30 s, each a pause on every request in flight;
 * - 64 MB (the earlier choice, when a page allocated far more): once the old generation reaches
 *   about 70 MB, V8 starts the next incremental marking straight after each mark-compact
 *   (`--trace-incremental-marking`: "Start (task)" at 42 MB of a 115–132 MB limit), so
 *   mark-compacts come in runs: bench:api counted 13 to 58 per 30 s in 7 runs, GC 320–607 ms, page
 *   p99 23.8–36.7 ms;
 * - 32 MB: 6–30 mark-compacts, GC 285–450 ms, page p99 18.6–26.4 ms (one run of 41.8 ms in a slow
 *   spell of the host), p95 about 11 ms against 15–19 ms, and a heap of about 116 MB against 180 MB.
 *
 * The old generation may grow to 3 times what survived the last mark-compact
 * (`--heap-growing-percent=200`) instead of V8's own factor. About 41 MB survives here, V8 set the
 * limit at 2 times that (82 MB), and it started incremental marking whenever less than about the
 * young generation (2 × 32 MB) was left below the limit, so after most mark-compacts it started the
 * next one at once (`--trace-incremental-marking`: "Start (task)", 41 MB of 82 MB). Alternating
 * bench:api page runs on the machine of 2026-12-03, 4 of each:
 * - V8's factor: 7–30 mark-compacts per 30 s, GC 311–449 ms, p95 10.0–11.7 ms, p99 20.1–26.4 ms;
 * - 200 %: 2 mark-compacts, GC 254–288 ms, p95 9.0–9.8 ms, p99 19.5–20.8 ms, API CPU per page about
 *   5 % less, the heap at most about 177 MB (V8's factor also reaches 188 MB while warming up);
 * - 300 %: 1 mark-compact and about the same p99, but a larger heap and a page max of 50–56 ms
 *   against 32–37 ms.
 * The API's own caches are bounded, so what survives stays small and 3 times it fits the 768 MiB
 * the k8s Deployment allows.
 */
export const API_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32', '--heap-growing-percent=200'];

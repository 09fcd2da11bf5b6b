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
 */
export const API_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/**
 * Node flags the API process runs with, wherever it is started: `npm run api`, the demo, the
 * image's default command, docker-compose.yml and deploy/k8s/api.yaml (test/deploy-config.test.ts
 * keeps those in step), and bench:api, so the benchmark measures the process as it is deployed.
 *
 * A 64 MB young generation halves the time a 1,000-row page workload spends in garbage collection
 * (about 0.9 s → 0.4 s per 30 s at 200 requests/s), and with it the latency tail: page p99 was
 * 25.7–29.2 ms with the default size against 22–25 ms with this one. It costs memory: the API's
 * resident size peaked at 441 MB under bench:api (pages at 200/s, then a 10-million-row export).
 */
export const API_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

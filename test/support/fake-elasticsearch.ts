import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * Enough of Elasticsearch 8 for @elastic/elasticsearch and winston-elasticsearch: the product
 * header, `GET /`, index templates, cluster health and `_bulk` with per-item results, keeping
 * documents by index and _id, and refusing an action line with more than its operation in it as
 * Elasticsearch 9 does. Faults are injected by the test: being down (connections cut at
 * once), whole requests answered 429/503, per-item errors (429, 400 mapping errors), a bulk
 * response held back after storing (to kill a client mid-request), and a gate that holds bulk
 * requests until several are in flight at once (to prove concurrent replicas).
 */

export interface StoredDoc {
  readonly index: string;
  readonly id: string;
  readonly source: Record<string, unknown>;
  readonly version: number;
}

export interface BulkItem {
  readonly index: string;
  readonly id: string;
  readonly doc: Record<string, unknown>;
  /** How many times an item with this index and _id arrived before (0 the first time). */
  readonly previousArrivals: number;
}

export interface ItemFault {
  readonly status: number;
  readonly type: string;
  readonly reason: string;
}

interface Held {
  readonly run: () => void;
}

const PRODUCT_HEADERS = { 'x-elastic-product': 'Elasticsearch', 'content-type': 'application/json' };
const VERSION = '8.15.3';

export class FakeElasticsearch {
  /** Documents by index, then _id. */
  readonly indices = new Map<string, Map<string, StoredDoc>>();
  readonly templates = new Map<string, unknown>();
  /** Bulk items received per "index/_id", whatever happened to them. */
  readonly arrivals = new Map<string, number>();
  /** "index/_id" in the order each was first stored. */
  readonly firstStored: string[] = [];
  bulkRequests = 0;
  maxConcurrentBulk = 0;
  /** Connections cut while down. */
  refusedConnections = 0;
  /** Requests answered with an injected whole-request error. */
  failedRequests = 0;
  /** Bulk requests refused for an action line holding more than the operation. */
  malformedRequests = 0;

  /** Per-item fault; undefined stores the document. */
  itemFault: ((item: BulkItem) => ItemFault | undefined) | undefined;
  /** Called after a bulk request was stored; true holds its response back for good. */
  holdResponseAfterStoring: ((items: readonly BulkItem[]) => boolean) | undefined;

  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private down = false;
  private failNext: { status: number; count: number; path: RegExp } | undefined;
  private gate: { concurrent: number; held: Held[] } | undefined;
  private bulkInFlight = 0;
  private readonly heldResponses = new Set<http.ServerResponse>();
  private readonly heldWaiters: Array<() => void> = [];
  port = 0;

  async start(port = 0): Promise<this> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 60_000;
    server.on('connection', (socket) => {
      if (this.down) {
        this.refusedConnections++;
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Down: every open connection is cut and new ones are closed at once. */
  setDown(down: boolean): void {
    this.down = down;
    if (down) this.cutConnections();
  }

  /** Answers the next `count` requests whose path matches with `status` (429 or 503…). */
  failNextRequests(status: number, count: number, path = /_bulk/): void {
    this.failNext = { status, count, path };
  }

  /** Holds bulk requests, unanswered, until `concurrent` of them are in flight at once. */
  holdBulkUntilConcurrent(concurrent: number): void {
    this.gate = { concurrent, held: [] };
  }

  /** Resolves once a bulk response is being held back (see holdResponseAfterStoring). */
  async waitForHeldResponse(): Promise<void> {
    if (this.heldResponses.size > 0) return;
    await new Promise<void>((resolve) => this.heldWaiters.push(resolve));
  }

  /** Every stored document of the indices whose name starts with prefix. */
  docs(prefix: string): StoredDoc[] {
    const out: StoredDoc[] = [];
    for (const [name, docs] of this.indices) if (name.startsWith(prefix)) out.push(...docs.values());
    return out;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const res of this.heldResponses) res.destroy();
    this.cutConnections();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private cutConnections(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.heldResponses.clear();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const body = Buffer.concat(chunks).toString('utf8');
      if (this.failNext && this.failNext.count > 0 && this.failNext.path.test(url.pathname)) {
        this.failNext.count--;
        this.failedRequests++;
        const type = this.failNext.status === 429 ? 'es_rejected_execution_exception' : 'unavailable_shards_exception';
        send(res, this.failNext.status, { error: { type, reason: 'injected by the test' }, status: this.failNext.status });
        return;
      }
      this.route(req.method ?? 'GET', url.pathname, body, res);
    });
  }

  private route(method: string, path: string, body: string, res: http.ServerResponse): void {
    if (path === '/' && (method === 'GET' || method === 'HEAD')) {
      send(res, 200, {
        name: 'fake-node',
        cluster_name: 'fake',
        cluster_uuid: 'fake-uuid',
        version: { number: VERSION, build_flavor: 'default', lucene_version: '9.11.1', minimum_wire_compatibility_version: '7.17.0', minimum_index_compatibility_version: '7.0.0' },
        tagline: 'You Know, for Search',
      });
      return;
    }
    if (path === '/_cluster/health') {
      send(res, 200, { cluster_name: 'fake', status: 'green', number_of_nodes: 1, timed_out: false });
      return;
    }
    const template = /^\/_index_template\/([^/]+)$/.exec(path);
    if (template) {
      const name = decodeURIComponent(template[1]);
      if (method === 'PUT' || method === 'POST') {
        this.templates.set(name, JSON.parse(body) as unknown);
        send(res, 200, { acknowledged: true });
      } else if (this.templates.has(name)) {
        send(res, 200, { index_templates: [{ name, index_template: this.templates.get(name) }] });
      } else {
        send(res, 404, {});
      }
      return;
    }
    const bulk = /^(?:\/([^/_][^/]*))?\/_bulk$/.exec(path);
    if (bulk && (method === 'POST' || method === 'PUT')) {
      this.bulk(bulk[1] === undefined ? undefined : decodeURIComponent(bulk[1]), body, res);
      return;
    }
    send(res, 404, { error: { type: 'resource_not_found_exception', reason: `no route ${method} ${path} in the fake` }, status: 404 });
  }

  private bulk(defaultIndex: string | undefined, body: string, res: http.ServerResponse): void {
    this.bulkRequests++;
    this.bulkInFlight++;
    this.maxConcurrentBulk = Math.max(this.maxConcurrentBulk, this.bulkInFlight);
    res.on('close', () => this.bulkInFlight--);
    const run = (): void => this.runBulk(defaultIndex, body, res);
    const gate = this.gate;
    if (gate) {
      gate.held.push({ run });
      if (this.bulkInFlight >= gate.concurrent) {
        this.gate = undefined;
        for (const h of gate.held) h.run();
      }
      return;
    }
    run();
  }

  private runBulk(defaultIndex: string | undefined, body: string, res: http.ServerResponse): void {
    const lines = body.split('\n').filter((l) => l.trim() !== '');
    const items: unknown[] = [];
    const received: BulkItem[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i += 2) {
      const action = JSON.parse(lines[i]) as Record<string, { _index?: string; _id?: string }>;
      const keys = Object.keys(action);
      if (keys.length !== 1) {
        // Elasticsearch 9 refuses the whole request; 8 accepts it with a critical deprecation.
        this.malformedRequests++;
        const reason = `Malformed action/metadata line [${i + 1}], expected END_OBJECT but found [FIELD_NAME]`;
        send(res, 400, { error: { type: 'illegal_argument_exception', reason }, status: 400 });
        return;
      }
      const [op] = keys;
      const meta = action[op];
      const index = meta._index ?? defaultIndex ?? 'missing-index';
      const id = meta._id ?? `auto-${this.bulkRequests}-${i}`;
      const doc = JSON.parse(lines[i + 1] ?? '{}') as Record<string, unknown>;
      const key = `${index}/${id}`;
      const previousArrivals = this.arrivals.get(key) ?? 0;
      this.arrivals.set(key, previousArrivals + 1);
      const item: BulkItem = { index, id, doc, previousArrivals };
      received.push(item);
      const fault = this.itemFault?.(item);
      if (fault) {
        errors = true;
        items.push({ [op]: { _index: index, _id: id, status: fault.status, error: { type: fault.type, reason: fault.reason } } });
        continue;
      }
      const docs = this.indices.get(index) ?? new Map<string, StoredDoc>();
      this.indices.set(index, docs);
      const existing = docs.get(id);
      docs.set(id, { index, id, source: doc, version: (existing?.version ?? 0) + 1 });
      if (!existing) this.firstStored.push(key);
      items.push({
        [op]: { _index: index, _id: id, _version: (existing?.version ?? 0) + 1, result: existing ? 'updated' : 'created', status: existing ? 200 : 201 },
      });
    }
    if (this.holdResponseAfterStoring?.(received)) {
      this.heldResponses.add(res);
      for (const w of this.heldWaiters.splice(0)) w();
      return;
    }
    send(res, 200, { took: 1, errors, items });
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...PRODUCT_HEADERS, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

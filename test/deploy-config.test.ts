import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { parse, parseAllDocuments } from 'yaml';
import { API_NODE_FLAGS } from '../services/api/node-flags';
import { auditIndexTemplate } from '../services/audit-shipper/audit-index-template';
import { assertTopology, TOPOLOGY } from '../services/shared/amqp-topology';
import { ROOT } from './support/processes';
import { AMQP_HOST, RABBIT_MGMT, uniqueName } from './support/services';

/**
 * The deployment files, checked offline: scripts/validate-deploy.sh (docker-compose config,
 * nginx -t, Kubernetes schemas), the stack's rules (what is published, health-gated start, no
 * literal secret), RabbitMQ definitions imported into the local broker and exercised with the
 * services' own accounts, and the Kibana saved objects against the audit index template.
 */

const run = promisify(execFile);
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

async function validate(section: string): Promise<string> {
  try {
    const { stdout } = await run('bash', [path.join(ROOT, 'scripts/validate-deploy.sh'), section], { cwd: ROOT });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`validate-deploy.sh ${section} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}

interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: string[];
  container_name?: string;
  restart?: string;
  profiles?: string[];
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string | number | boolean | null>;
}

describe('deployment files', () => {
  // apt-get may have to install docker-compose or nginx on a fresh machine.
  jest.setTimeout(600_000);

  it('docker-compose.yml is valid for docker-compose (default, dev profile, infra overlay)', async () => {
    expect(await validate('compose')).toContain('compose: docker-compose.yml valid');
  });

  it('nginx/ passes nginx -t', async () => {
    expect(await validate('nginx')).toContain('nginx: configuration valid');
  });

  it('deploy/k8s matches the Kubernetes and KEDA schemas', async () => {
    expect(await validate('k8s')).toMatch(/k8s: \d+ objects in \d+ files valid/);
  });

  describe('the compose stack', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
    const services = compose.services;
    const oneShot = (s: ComposeService): boolean => s.restart === 'no';

    it('publishes only nginx 443/80, RabbitMQ TLS 5671, Kibana 5601 and, in dev, the auth emulator on localhost', () => {
      const published = Object.entries(services).flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name} ${p}`));
      expect(published.sort()).toEqual(
        ['firebase-auth 127.0.0.1:9099:9099', 'kibana ${KIBANA_BIND:-127.0.0.1}:5601:5601', 'nginx 443:443', 'nginx 80:80', 'rabbitmq 5671:5671'].sort(),
      );
      expect(services['firebase-auth'].profiles).toEqual(['dev']);
      expect(services.ingest.container_name).toBeUndefined();
      expect(services.ingest.ports).toBeUndefined();
    });

    it('starts on health: every dependency has a condition, every long-running service a healthcheck', () => {
      for (const [name, s] of Object.entries(services)) {
        if (!oneShot(s)) expect({ name, healthcheck: s.healthcheck !== undefined }).toEqual({ name, healthcheck: true });
        const deps = s.depends_on ?? {};
        expect(Array.isArray(deps)).toBe(false);
        for (const [dep, { condition }] of Object.entries(deps as Record<string, { condition: string }>)) {
          expect(services[dep]).toBeDefined();
          const expected = oneShot(services[dep]) ? 'service_completed_successfully' : 'service_healthy';
          expect({ name, dep, condition }).toEqual({ name, dep, condition: expected });
        }
      }
    });

    it('pins every image and takes every secret from .env', () => {
      const text = read('docker-compose.yml');
      const example = read('.env.example');
      const defined = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
      for (const [name, s] of Object.entries(services)) {
        expect({ name, image: s.image }).toEqual({ name, image: expect.stringMatching(/:[^:]+$/) as unknown });
        expect(s.image).not.toMatch(/:latest$/);
        for (const [key, value] of Object.entries(s.environment ?? {})) {
          const v = String(value ?? '');
          // Credentials only ever come from variables.
          if (/PASSWORD|SECRET|ENCRYPTIONKEY/.test(key)) expect({ name, key, v }).toEqual({ name, key, v: expect.stringMatching(/^\$\{[A-Z0-9_]+\}$/) as unknown });
          if (/:\/\/[^/\s]*@/.test(v)) expect({ name, key, v }).toEqual({ name, key, v: expect.stringMatching(/:\/\/[^:]+:\$\{[A-Z0-9_]+\}@/) as unknown });
        }
      }
      // Every variable used without a default is in .env.example, which holds no real secret.
      const required = [...text.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]);
      expect(required.filter((v) => !defined.has(v))).toEqual([]);
      for (const m of example.matchAll(/^([A-Z0-9_]*(PASSWORD|KEY)[A-Z0-9_]*)=(.*)$/gm)) expect(m[3]).toMatch(/^change-me/);
    });
  });

  describe('RabbitMQ definitions', () => {
    const template = JSON.parse(read('deploy/rabbitmq/definitions.template.json')) as {
      users: Array<{ name: string }>;
      vhosts: Array<{ name: string }>;
      permissions: Array<{ user: string; vhost: string }>;
      exchanges: Array<{ name: string; vhost: string; type: string; durable: boolean }>;
      queues: Array<{ name: string; vhost: string; durable: boolean; arguments: Record<string, unknown> }>;
      bindings: Array<{ source: string; destination: string; routing_key: string; vhost: string }>;
    };

    it('declare the topology of services/shared/amqp-topology.ts', () => {
      expect(template.exchanges.map((e) => [e.name, e.type, e.durable]).sort()).toEqual(
        [[TOPOLOGY.exchange, 'direct', true], [TOPOLOGY.deadLetterExchange, 'direct', true]].sort(),
      );
      const queues = Object.fromEntries(template.queues.map((q) => [q.name, q.arguments]));
      expect(queues[TOPOLOGY.queue]).toEqual({
        'x-queue-type': 'quorum',
        'x-dead-letter-exchange': TOPOLOGY.deadLetterExchange,
        'x-dead-letter-routing-key': TOPOLOGY.routingKey,
        'x-delivery-limit': TOPOLOGY.deliveryLimit,
      });
      expect(queues[TOPOLOGY.deadLetterQueue]).toEqual({ 'x-queue-type': 'quorum' });
      expect(template.bindings.map((b) => [b.source, b.destination, b.routing_key]).sort()).toEqual(
        [[TOPOLOGY.exchange, TOPOLOGY.queue, TOPOLOGY.routingKey], [TOPOLOGY.deadLetterExchange, TOPOLOGY.deadLetterQueue, TOPOLOGY.routingKey]].sort(),
      );
    });

    it('rendered with .env passwords, give each service exactly what it needs on a real broker', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'mymonit-defs-'));
      const suffix = uniqueName('t').slice(2);
      const passwords = Object.fromEntries(
        ['RABBITMQ_ADMIN_PASSWORD', 'RABBITMQ_INGEST_PASSWORD', 'RABBITMQ_ADAPTER_PASSWORD', 'RABBITMQ_MONITOR_PASSWORD'].map((k) => [k, `pw-${k.toLowerCase()}-${suffix}`]),
      );
      const guest = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' };
      const vhost = `mymonit_test_defs_${suffix}`;
      const userName = (u: string): string => `${u}_${suffix}`;
      let rendered: typeof template & { users: Array<{ name: string; password_hash: string }> };
      try {
        // render-definitions.mjs chowns to the broker's uid: root only, as in its container.
        await run(process.execPath, [path.join(ROOT, 'deploy/rabbitmq/render-definitions.mjs'), path.join(ROOT, 'deploy/rabbitmq/definitions.template.json'), path.join(dir, 'd.json')], {
          env: { ...process.env, ...passwords },
        });
        rendered = JSON.parse(readFileSync(path.join(dir, 'd.json'), 'utf8')) as typeof rendered;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      expect(JSON.stringify(rendered)).not.toContain(passwords.RABBITMQ_INGEST_PASSWORD);

      // The same definitions in a vhost and with user names of this test only.
      const isolated = {
        users: rendered.users.map((u) => ({ ...u, name: userName(u.name) })),
        vhosts: [{ name: vhost }],
        permissions: rendered.permissions.map((p) => ({ ...p, user: userName(p.user), vhost })),
        exchanges: rendered.exchanges.map((e) => ({ ...e, vhost })),
        queues: rendered.queues.map((q) => ({ ...q, vhost })),
        bindings: rendered.bindings.map((b) => ({ ...b, vhost })),
      };
      const url = (user: string, password: string): string => `amqp://${userName(user)}:${password}@${AMQP_HOST}/${encodeURIComponent(vhost)}`;
      try {
        const res = await fetch(`${RABBIT_MGMT}/api/definitions`, { method: 'POST', headers: guest, body: JSON.stringify(isolated) });
        expect(res.status).toBeLessThan(300);

        // ingest: may (re)declare the topology exactly as the service does, and consume.
        const ingest = await amqp.connect(url('ingest', passwords.RABBITMQ_INGEST_PASSWORD));
        const ich = await ingest.createChannel();
        await assertTopology(ich);

        // adapter: may publish to the exchange, with its user id checked by the broker…
        const adapter = await amqp.connect(url('adapter', passwords.RABBITMQ_ADAPTER_PASSWORD));
        const ach = await adapter.createConfirmChannel();
        ach.publish(TOPOLOGY.exchange, TOPOLOGY.routingKey, Buffer.from('{}'), { persistent: true, userId: userName('adapter') });
        await ach.waitForConfirms();
        expect((await ich.checkQueue(TOPOLOGY.queue)).messageCount).toBe(1);
        // …and nothing else: declaring is refused.
        const refused = await adapter.createChannel();
        const closed = new Promise<unknown>((resolve) => refused.on('error', resolve));
        await expect(refused.assertQueue('anything')).rejects.toThrow(/ACCESS_REFUSED/);
        await closed;
        await adapter.close();
        await ingest.close();
      } finally {
        await fetch(`${RABBIT_MGMT}/api/vhosts/${encodeURIComponent(vhost)}`, { method: 'DELETE', headers: guest });
        for (const u of template.users) await fetch(`${RABBIT_MGMT}/api/users/${encodeURIComponent(userName(u.name))}`, { method: 'DELETE', headers: guest });
      }
    });
  });

  describe('Kibana saved objects', () => {
    interface SavedObject {
      id: string;
      type: string;
      attributes: Record<string, unknown>;
      references: Array<{ name: string; type: string; id: string }>;
    }
    const dir = path.join(ROOT, 'logstash/kibana');
    const objects: SavedObject[] = readdirSync(dir)
      .filter((f) => f.endsWith('.ndjson'))
      .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter((l) => l.trim() !== ''))
      .map((l) => JSON.parse(l) as SavedObject);

    /** Every field path the audit template maps, e.g. "event.action". */
    function mappedFields(props: Record<string, { properties?: Record<string, unknown> }>, prefix = ''): string[] {
      return Object.entries(props).flatMap(([k, v]) => [`${prefix}${k}`, ...(v.properties ? mappedFields(v.properties as never, `${prefix}${k}.`) : [])]);
    }
    const auditFields = new Set(mappedFields(auditIndexTemplate().template?.mappings?.properties as never));

    it('hold data views for mymonit-audit-* and mymonit-logs-* and an audit dashboard whose references resolve', () => {
      const byId = new Map(objects.map((o) => [`${o.type}/${o.id}`, o]));
      expect(objects.filter((o) => o.type === 'index-pattern').map((o) => o.attributes.title).sort()).toEqual(['mymonit-audit-*', 'mymonit-logs-*']);
      for (const o of objects) for (const r of o.references) expect({ from: o.id, to: `${r.type}/${r.id}`, found: byId.has(`${r.type}/${r.id}`) }).toMatchObject({ found: true });
      const dashboard = objects.find((o) => o.type === 'dashboard');
      const panels = JSON.parse(String(dashboard?.attributes.panelsJSON)) as Array<{ panelRefName: string }>;
      expect(panels.map((p) => p.panelRefName).sort()).toEqual(dashboard?.references.map((r) => r.name).sort());
      const titles = panels.map((p) => byId.get(`${dashboard?.references.find((r) => r.name === p.panelRefName)?.type}/${dashboard?.references.find((r) => r.name === p.panelRefName)?.id}`)?.attributes.title);
      expect(titles).toEqual(expect.arrayContaining(['Audit: actions over time', 'Audit: denied attempts', 'Audit: top actors', 'Audit: who read which experiment']));
    });

    it('use only fields the audit index template maps', () => {
      const used: string[] = [];
      for (const o of objects.filter((x) => x.references.some((r) => r.id === 'mymonit-audit'))) {
        const source = JSON.parse(String((o.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON)) as { query: { query: string } };
        used.push(...[...source.query.query.matchAll(/([a-z@_.]+)\s*:/g)].map((m) => m[1]));
        if (o.type === 'visualization') {
          const state = JSON.parse(String(o.attributes.visState)) as { aggs: Array<{ params: { field?: string } }> };
          used.push(...state.aggs.flatMap((a) => (a.params.field ? [a.params.field] : [])));
        }
        if (o.type === 'search') used.push(...(o.attributes.columns as string[]));
      }
      expect(used.length).toBeGreaterThan(10);
      expect(used.filter((f) => !auditFields.has(f))).toEqual([]);
    });
  });

  it('every start of the API has its node flags, the ones bench:api measures it with', () => {
    const apiCommand = ['node', ...API_NODE_FLAGS, 'dist/services/api/main.js'];
    const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { command?: string[] }> };
    expect(compose.services.api.command).toEqual(apiCommand);
    type K8sObject = { kind: string; spec?: { template?: { spec?: { containers?: Array<{ name: string; command?: string[] }> } } } };
    const objects = parseAllDocuments(read('deploy/k8s/api.yaml')).map((d) => d.toJS() as K8sObject);
    const deployment = objects.find((o) => o.kind === 'Deployment');
    expect(deployment?.spec?.template?.spec?.containers?.find((c) => c.name === 'api')?.command).toEqual(apiCommand);
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
    expect(JSON.parse(cmd ?? 'null')).toEqual(apiCommand);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.api).toMatch(new RegExp(`&& ${apiCommand.join(' ')}$`));
    expect(read('scripts/demo.ts')).toMatch(/start\('api', 'services\/api\/main\.js', \{\s*nodeArgs: API_NODE_FLAGS,/);
  });

  it('the Logstash pipeline writes mymonit-logs-YYYY.MM.dd from beats, with its template', () => {
    const conf = read('logstash/pipeline/mymonit.conf');
    const code = conf
      .replace(/^\s*#.*$/gm, '')
      .replace(/'[^']*'|"[^"]*"/g, '""')
      .replace(/=~\s*\/(?:\\.|[^/])*\//g, '=~ //');
    expect(code.split('{').length).toBe(code.split('}').length);
    expect(conf).toMatch(/beats\s*\{\s*port\s*=>\s*5044/);
    expect(conf).toContain('index => "mymonit-logs-%{+YYYY.MM.dd}"');
    const template = JSON.parse(read('logstash/templates/mymonit-logs.json')) as { index_patterns: string[] };
    expect(template.index_patterns).toEqual(['mymonit-logs-*']);
  });
});

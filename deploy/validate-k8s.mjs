// Validates deploy/k8s against the Kubernetes and KEDA schemas shipped by the kubernetes-models
// packages (generated from the upstream OpenAPI specs: types, formats such as quantities,
// required fields, enums), plus MyMONIT's own rules: probes, resources, non-root, secrets by
// reference, and a kustomization that lists every manifest. Usage: node validate-k8s.mjs [DIR]
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const dir = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'k8s'));
const problems = [];
const problem = (where, what) => problems.push(`${where}: ${what}`);

/** apiVersion + kind → the module exporting its model. */
function modelModule(apiVersion, kind) {
  if (apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

function checkWorkload(where, podSpec, { probes }) {
  if (podSpec.securityContext?.runAsNonRoot !== true) problem(where, 'pod must set securityContext.runAsNonRoot: true');
  for (const c of podSpec.containers ?? []) {
    const at = `${where} container ${c.name}`;
    if (!c.resources?.requests || !c.resources?.limits) problem(at, 'needs resources.requests and resources.limits');
    if (c.securityContext?.allowPrivilegeEscalation !== false) problem(at, 'must set allowPrivilegeEscalation: false');
    if (/:latest$|^[^:]+$/.test(c.image ?? '')) problem(at, `image ${c.image} must carry a version tag`);
    for (const e of c.env ?? []) {
      if (/URL|PASSWORD|SECRET|TOKEN|KEY/.test(e.name) && e.value !== undefined && !/_FILE$|CREDENTIALS$/.test(e.name)) {
        problem(at, `env ${e.name} must come from a Secret (valueFrom.secretKeyRef), not a literal`);
      }
    }
    if (probes) {
      if (c.livenessProbe?.httpGet?.path !== '/healthz') problem(at, 'livenessProbe must be GET /healthz');
      if (c.readinessProbe?.httpGet?.path !== '/readyz') problem(at, 'readinessProbe must be GET /readyz');
    }
  }
}

const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
const manifests = files.filter((f) => f !== 'kustomization.yaml');
let count = 0;
for (const file of manifests) {
  const docs = parseAllDocuments(readFileSync(path.join(dir, file), 'utf8'));
  for (const doc of docs) {
    if (doc.errors.length) {
      problem(file, `YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
      continue;
    }
    const obj = doc.toJS();
    if (obj === null) continue;
    const where = `${file} ${obj.kind}/${obj.metadata?.name}`;
    if (!obj.apiVersion || !obj.kind) {
      problem(file, 'a document without apiVersion or kind');
      continue;
    }
    let Model;
    try {
      Model = (await import(modelModule(obj.apiVersion, obj.kind)))[obj.kind];
    } catch {
      problem(where, `no schema for ${obj.apiVersion} ${obj.kind}`);
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (err) {
      problem(where, `schema: ${err.message}`);
    }
    if (!obj.metadata?.name) problem(where, 'metadata.name is required');
    if (obj.kind !== 'Namespace' && obj.metadata?.namespace !== 'mymonit') problem(where, 'metadata.namespace must be mymonit');
    if (obj.kind === 'Deployment') checkWorkload(where, obj.spec.template.spec, { probes: true });
    if (obj.kind === 'Job') checkWorkload(where, obj.spec.template.spec, { probes: false });
    count++;
  }
}

const kustomization = parseAllDocuments(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'))[0].toJS();
const listed = new Set(kustomization.resources ?? []);
for (const f of manifests) if (!listed.has(f)) problem('kustomization.yaml', `does not list ${f}`);
for (const f of listed) if (!manifests.includes(f)) problem('kustomization.yaml', `lists ${f}, which does not exist`);

if (problems.length) {
  console.error(`k8s: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`k8s: ${count} objects in ${manifests.length} files valid`);

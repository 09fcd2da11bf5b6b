/**
 * A plain HTML page of the OpenAPI document: no scripts and no outside assets, so it works offline
 * and under the API's strict Content-Security-Policy. Tools that want more read /openapi.json.
 */

function escape(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Operation {
  summary?: string;
  description?: string;
  parameters?: Array<{ name: string; in: string; required: boolean; schema: unknown }>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, unknown> }>;
}

export function renderApiDocs(doc: Record<string, unknown>): string {
  const info = doc.info as { title: string; version: string; description?: string };
  const paths = doc.paths as Record<string, Record<string, Operation>>;
  const sections: string[] = [];
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters ?? [])
        .map((p) => `<li><code>${escape(p.name)}</code> (${escape(p.in)}${p.required ? ', required' : ''}): <code>${escape(JSON.stringify(p.schema))}</code></li>`)
        .join('');
      const body = op.requestBody?.content['application/json']?.schema;
      const responses = Object.entries(op.responses)
        .map(([status, r]) => `<li><b>${escape(status)}</b> ${escape(r.description)}${r.content ? ` <small>(${escape(Object.keys(r.content).join(', '))})</small>` : ''}</li>`)
        .join('');
      sections.push(
        `<section><h2><span class="m">${escape(method.toUpperCase())}</span> <code>${escape(path)}</code></h2>` +
          `<p>${escape(op.summary ?? '')}</p><p><i>${escape(op.description ?? '')}</i></p>` +
          (params ? `<h3>Parameters</h3><ul>${params}</ul>` : '') +
          (body ? `<h3>Body (application/json)</h3><pre>${escape(JSON.stringify(body, null, 2))}</pre>` : '') +
          `<h3>Responses</h3><ul>${responses}</ul></section>`,
      );
    }
  }
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    `<title>${escape(info.title)} ${escape(info.version)}</title>` +
    '<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}' +
    'section{border-top:1px solid #ccc;padding:.5rem 0}.m{background:#333;color:#fff;padding:0 .4rem;border-radius:3px}' +
    'pre{background:#f4f4f4;padding:.5rem;overflow:auto}</style></head><body>' +
    `<h1>${escape(info.title)} <small>${escape(info.version)}</small></h1><p>${escape(info.description ?? '')}</p>` +
    '<p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>' +
    sections.join('') +
    '</body></html>'
  );
}

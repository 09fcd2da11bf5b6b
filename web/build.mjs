// Builds the web page: web/src → <outdir>/index.html and <outdir>/assets/{app,styles}-<hash>.{js,css}.
// Usage: node web/build.mjs [--outdir <dir>] (default web/dist). Prints each asset's raw and gzip
// size; the last line is JSON. Runtime settings are not baked in: the page reads config.json
// beside index.html (see web/config.example.json), so one build serves every environment.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const at = process.argv.indexOf('--outdir');
const outdir = path.resolve(at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : path.join(here, 'dist'));
const assets = path.join(outdir, 'assets');

// Only what this script writes: an --outdir pointing at a populated directory keeps its other files.
await rm(assets, { recursive: true, force: true });
await rm(path.join(outdir, 'index.html'), { force: true });
await mkdir(assets, { recursive: true });

const result = await build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.ts', styles: 'src/styles.css' },
  outdir: assets,
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
  sourcemap: 'linked',
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.entries(result.metafile.outputs).filter(([, o]) => o.entryPoint !== undefined);
const nameOf = (ext) => {
  const found = outputs.find(([file]) => file.endsWith(ext));
  if (!found) throw new Error(`esbuild produced no ${ext} file`);
  return path.basename(found[0]);
};

const template = await readFile(path.join(here, 'src', 'index.html'), 'utf8');
const html = template.replace('%STYLES%', `assets/${nameOf('.css')}`).replace('%SCRIPT%', `assets/${nameOf('.js')}`);
await writeFile(path.join(outdir, 'index.html'), html);

const files = ['index.html', `assets/${nameOf('.js')}`, `assets/${nameOf('.css')}`];
const sizes = {};
for (const f of files) {
  const bytes = await readFile(path.join(outdir, f));
  sizes[f] = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  console.log(`${f.padEnd(36)} ${String(bytes.length).padStart(8)} B  gzip ${String(sizes[f].gzip).padStart(7)} B`);
}
const total = Object.values(sizes).reduce((t, s) => ({ raw: t.raw + s.raw, gzip: t.gzip + s.gzip }), { raw: 0, gzip: 0 });
console.log(JSON.stringify({ outdir, files: sizes, total }));

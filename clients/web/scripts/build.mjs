// Bundles the web client into dist/ with esbuild-wasm (no native binary, nothing fetched):
// hashed file names under dist/assets/ (Confab caches them for a year), index.html naming
// them, and the compressed size of the JavaScript a first load fetches.
import { build } from 'esbuild-wasm';
import { createHash } from 'node:crypto';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const firstLoadBudget = 150 * 1024;

await rm(dist, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/main.tsx', 'src/styles.css'],
  bundle: true,
  format: 'esm',
  splitting: true,
  minify: true,
  sourcemap: 'linked',
  target: ['es2022'],
  outdir: join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // The SDK's TypeScript sources, so the client needs no separate SDK build.
  alias: { '@confab/sdk': '../sdk/src/index.ts' },
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.entries(result.metafile.outputs);
const entry = (name) => outputs.find(([, o]) => o.entryPoint === name)[0];
const js = entry('src/main.tsx');
const css = entry('src/styles.css');
const href = (file) => '/' + relative(dist, join(root, file)).split('\\').join('/');

const template = await readFile(join(root, 'src/index.html'), 'utf8');
await writeFile(join(dist, 'index.html'), template.replace('%SCRIPT%', href(js)).replace('%STYLE%', href(css)));
await copyFile(join(root, 'src/favicon.svg'), join(dist, 'favicon.svg'));

// The service worker keeps this build's shell for offline starts: the page and every output
// but source maps (lazily loaded chunks too, so an offline start can open every page).
const shellFiles = ['/', '/favicon.svg', ...outputs.map(([file]) => href(file)).filter((file) => !file.endsWith('.map'))];
const buildId = createHash('sha256').update(shellFiles.join('\n')).digest('hex').slice(0, 16);
const worker = await readFile(join(root, 'src/worker/service-worker.js'), 'utf8');
await writeFile(join(dist, 'service-worker.js'), worker.replace('%BUILD%', buildId).replace('%FILES%', JSON.stringify(shellFiles)));

// What a first load fetches: the entry and the chunks it imports statically.
const loaded = new Set();
const visit = (file) => {
  if (loaded.has(file)) return;
  loaded.add(file);
  for (const imported of result.metafile.outputs[file].imports) if (imported.kind === 'import-statement') visit(imported.path);
};
visit(js);
let compressed = 0;
for (const file of loaded) compressed += gzipSync(await readFile(join(root, file)), { level: 9 }).length;
const report = { first_load_js_gzip_bytes: compressed, files: [...loaded].map(href) };
await writeFile(join(dist, 'bundle-size.json'), JSON.stringify(report, null, 2) + '\n');
console.log(`web client built: first load ${(compressed / 1024).toFixed(1)} KiB of gzipped JavaScript`);
if (compressed > firstLoadBudget) {
  console.error(`over the ${firstLoadBudget / 1024} KiB budget`);
  process.exit(1);
}

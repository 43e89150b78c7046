// Builds the web console (console/) into dist/console/: one ES module bundle (plus lazily loaded
// chunks) and a stylesheet, with content-hashed names under assets/, and index.html pointing at
// them. Prints the gzipped size of what the first page load fetches.
import { build } from 'esbuild';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'console');
const out = join(root, 'dist', 'console');
const assets = join(out, 'assets');

await rm(out, { recursive: true, force: true });
await mkdir(assets, { recursive: true });

const result = await build({
  entryPoints: { app: join(src, 'src', 'main.tsx'), styles: join(src, 'styles.css') },
  outdir: assets,
  bundle: true,
  splitting: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
  tsconfig: join(src, 'tsconfig.json'),
});

let script;
let styles;
for (const [file, info] of Object.entries(result.metafile.outputs)) {
  if (info.entryPoint?.endsWith('main.tsx') && file.endsWith('.js')) script = basename(file);
  if (info.entryPoint?.endsWith('styles.css') && file.endsWith('.css')) styles = basename(file);
}
if (!script || !styles) throw new Error('build-console: the bundle or the stylesheet is missing');
const html = (await readFile(join(src, 'index.html'), 'utf8'))
  .replace('%SCRIPT%', script)
  .replace('%STYLES%', styles);
await writeFile(join(out, 'index.html'), html);

const gz = async (name) => gzipSync(await readFile(join(assets, name)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const lazy = (await readdir(assets)).filter((f) => f.endsWith('.js') && f !== script);
const initialJs = await gz(script);
const css = await gz(styles);
let lazyTotal = 0;
for (const f of lazy) lazyTotal += await gz(f);
const raw = (await stat(join(assets, script))).size;
console.log(
  `console: ${script} ${kb(raw)} (${kb(initialJs)} gzipped), ${styles} ${kb(css)} gzipped; ` +
    `lazy chunks ${kb(lazyTotal)} gzipped (YAML view, fetched on demand) → dist/console/`,
);

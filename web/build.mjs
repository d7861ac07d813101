// Bundles every web/assets/*.js entry (and the CSS it imports) into web/static/dist with esbuild.
import { build } from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';

const entries = (existsSync('assets') ? readdirSync('assets') : []).filter((f) => f.endsWith('.js')).map((f) => `assets/${f}`);
await build({
  entryPoints: entries,
  bundle: true,
  minify: true,
  sourcemap: false,
  format: 'iife',
  target: ['chrome110', 'firefox110'],
  outdir: 'static/dist',
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file', '.bpmnlintrc': 'json' },
  logLevel: 'warning',
});
console.log(`built ${entries.length} bundle(s) into web/static/dist`);

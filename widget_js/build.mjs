// Build the browser scripts: widget_js/*.js -> widget_server/static/*.js, minified with terser.
//   node widget_js/build.mjs          write the built files (commit them: the service runs without Node)
//   node widget_js/build.mjs --check  exit 1 when a built file is not what its sources give (the tests run it)
import {readFileSync, writeFileSync, existsSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {minify} from 'terser';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'widget_server', 'static');
// Built file -> its sources, concatenated in this order. The loader is one self-contained IIFE;
// the others share the combobox and get wrapped in one.
const BUNDLES = {
  'loader.js': ['loader.js'],
  'widget.js': ['combobox.js', 'widget.js'],
  'configurateur.js': ['combobox.js', 'configurator.js'],
};

async function build(name, sources) {
  let code = sources.map((s) => readFileSync(join(here, s), 'utf8')).join('\n');
  if (name !== 'loader.js') code = `(function(){'use strict';\n${code}\n})();`;
  const result = await minify(code, {
    ecma: 2017,
    compress: {passes: 2},
    mangle: true,
    format: {comments: false, preamble: `/* alternance widget: widget_js/${sources.join(' + ')} (MIT) */`},
  });
  return result.code + '\n';
}

const check = process.argv.includes('--check');
let stale = 0;
for (const [name, sources] of Object.entries(BUNDLES)) {
  const code = await build(name, sources);
  const target = join(out, name);
  if (check) {
    if (!existsSync(target) || readFileSync(target, 'utf8') !== code) {
      console.error(`${target} is out of date: run node widget_js/build.mjs`);
      stale += 1;
    }
  } else {
    writeFileSync(target, code);
    console.log(`${name}: ${code.length} bytes`);
  }
}
process.exit(stale ? 1 : 0);

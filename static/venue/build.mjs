// Bundle the browser venue: static/venue/main.js -> static/dist/venue.js (+ lazy chunks).
// Usage: `npm run build` (minified, tree-shaken) or `npm run watch`. Prints the gzipped sizes.
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const outdir = new URL("../dist/", import.meta.url).pathname;
const options = {
  entryPoints: {
    venue: new URL("./main.js", import.meta.url).pathname,
    presenter: new URL("./presenter.js", import.meta.url).pathname,
    player: new URL("./player.js", import.meta.url).pathname,
    studio: new URL("./studio.js", import.meta.url).pathname,
  },
  bundle: true,
  format: "esm",
  splitting: true,
  minify: true,
  treeShaking: true,
  sourcemap: false,
  target: ["es2020"],
  outdir,
  chunkNames: "chunks/[name]-[hash]",
  legalComments: "none",
  logLevel: "warning",
};

function report() {
  const rows = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (path.endsWith(".js")) {
        const raw = readFileSync(path);
        rows.push([path.slice(outdir.length), raw.length, gzipSync(raw, { level: 9 }).length]);
      }
    }
  };
  walk(outdir);
  for (const [name, raw, gz] of rows) {
    console.log(`${name.padEnd(40)} ${(raw / 1024).toFixed(1).padStart(8)} KB  ${(gz / 1024).toFixed(1).padStart(7)} KB gzipped`);
  }
}

if (process.argv.includes("--watch")) {
  const context = await esbuild.context({ ...options, minify: false });
  await context.watch();
  console.log("watching static/venue/ ...");
} else {
  rmSync(outdir, { recursive: true, force: true });
  await esbuild.build(options);
  report();
}

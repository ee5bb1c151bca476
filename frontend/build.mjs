// Bundle the browser code: frontend/src/ -> static/dist/ (the only JavaScript that
// `collectstatic` publishes). The venue's ES modules (venue.js + lazy chunks, presenter, player,
// studio) and the admin's classic scripts (dist/admin/*.js, IIFE).
// Usage: `npm run build` (minified, tree-shaken) or `npm run watch`. Prints the gzipped sizes.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const source = (name) => new URL(`./src/${name}`, import.meta.url).pathname;
const outdir = new URL("../static/dist/", import.meta.url).pathname;
const common = {
  bundle: true,
  minify: true,
  treeShaking: true,
  sourcemap: false,
  target: ["es2020"],
  legalComments: "none",
  logLevel: "warning",
};
// The pages' modules: one entry per page, shared code and lazy imports as chunks.
const venue = {
  ...common,
  entryPoints: {
    venue: source("main.js"),
    presenter: source("presenter.js"),
    player: source("player.js"),
    studio: source("studio.js"),
    rooms: source("rooms.js"),
  },
  format: "esm",
  splitting: true,
  outdir,
  chunkNames: "chunks/[name]-[hash]",
};
// The admin's scripts: Django admin's `Media.js` loads classic scripts, so each is one IIFE.
const admin = {
  ...common,
  entryPoints: {
    "recordings-progress": source("admin/recordings-progress.js"),
    "recordings-upload": source("admin/recordings-upload.js"),
  },
  format: "iife",
  outdir: join(outdir, "admin"),
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
    const size = `${(raw / 1024).toFixed(1).padStart(8)} KB  ${(gz / 1024).toFixed(1).padStart(7)} KB gzipped`;
    console.log(`${name.padEnd(40)} ${size}`);
  }
}

if (process.argv.includes("--watch")) {
  const contexts = await Promise.all([venue, admin].map((options) => esbuild.context({ ...options, minify: false })));
  await Promise.all(contexts.map((context) => context.watch()));
  console.log("watching frontend/src/ ...");
} else {
  rmSync(outdir, { recursive: true, force: true });
  await Promise.all([esbuild.build(venue), esbuild.build(admin)]);
  report();
}

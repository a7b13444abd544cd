#!/usr/bin/env node
// Tiny shim: check the Node version, enable the compile cache, then run the built CLI.
import module from "node:module";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(`headshot needs Node.js 20.19 or newer (this is ${process.version}). Install a current LTS from nodejs.org.\n`);
  process.exit(3);
}
module.enableCompileCache?.();

const { run } = await import("../dist/cli/run.js");
await run();

/**
 * Set-up file of the fast tier (`npm run test:fast`, the `fast` project in vitest.config.ts): a
 * test there must be pure, so starting a child process, a worker thread (the face models run in
 * worker threads, src/selfies/faces.ts) or a listening server (the Replicate emulator) throws at
 * once with the way out. The guard sits at Node's process/thread/network boundary, not on any
 * headshot module; `syncBuiltinESMExports` makes ESM imports of the builtins see the patch too
 * (https://nodejs.org/api/module.html#modulesyncbuiltinesmexports).
 */
import { createRequire, syncBuiltinESMExports } from "node:module";

const require = createRequire(import.meta.url);

function refuse(what: string): never {
  throw new Error(`${what} in a fast-tier test: move the file to the slow list in vitest.config.ts (SLOW_UNIT)`);
}

const childProcess = require("node:child_process") as Record<string, unknown>;
for (const name of ["spawn", "spawnSync", "fork", "exec", "execSync", "execFile", "execFileSync"]) {
  childProcess[name] = () => refuse(`child_process.${name}`);
}
const workerThreads = require("node:worker_threads") as Record<string, unknown>;
workerThreads.Worker = class {
  constructor() {
    refuse("new Worker()");
  }
};
const net = require("node:net") as { Server: { prototype: { listen: unknown } } };
net.Server.prototype.listen = () => refuse("server.listen()");
syncBuiltinESMExports();

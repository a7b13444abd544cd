/**
 * What a person sees from `headshot train --backend local` without --json: milestones, checkpoint
 * and sample paths as they land, and the final registration, on stderr; the result line on stdout.
 */
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runCli, tempWorkspace } from "../support/run-cli.js";
import { astronaut, writeAll } from "../support/selfies/build.js";
import { fakeEnv, makeFakeCheckout } from "../support/fake-ai-toolkit/harness.js";

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  ws = await tempWorkspace("headshot-train-out-");
  env = { ...fakeEnv(), HOME: ws.dir, HEADSHOT_HOME: ws.home, AI_TOOLKIT_DIR: await makeFakeCheckout(ws.dir), CI: "true" };
  await writeAll(join(ws.dir, "selfies"), { "one.jpg": await astronaut({ size: 1100 }) });
});
afterAll(async () => {
  await ws.cleanup();
});

it("prints milestones, checkpoints, sample paths and the registered identity", async () => {
  const r = await runCli(["train", "./selfies", "--name", "jane", "--backend", "local", "--steps", "12", "--force"], { cwd: ws.dir, env });
  expect(r.code).toBe(0);
  const out = join(ws.home, "identities", "jane", "training", "jane");
  expect(r.stderr).toContain("training jane: FLUX.1 dev, 12 steps, rank 16, lr 0.0001, trigger \"ohwx\"");
  expect(r.stderr).toContain("· Loading Flux model");
  expect(r.stderr).toContain(`checkpoint step 3: ${join(out, "jane_000000003.safetensors")}`);
  expect(r.stderr).toMatch(new RegExp(`sample step 12: ${out}/samples/\\d+__000000012_0\\.jpg`));
  // CI: throttled plain progress lines, never carriage returns or spinner frames.
  expect(r.stderr).toMatch(/training jane [█░]{20} \d+\/12/);
  expect(r.stderr).not.toContain("\r");
  expect(r.stderr).toContain("✔ trained jane (12 steps)");
  expect(r.stderr).toContain(`identity jane registered: ${join(ws.home, "identities", "jane", "identity.json")}`);
  expect(r.stdout).toBe(`jane\t${join(out, "jane.safetensors")}\n`);
});

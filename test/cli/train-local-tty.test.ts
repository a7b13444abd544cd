/**
 * On a terminal the progress is one live line (ora on stderr) rather than a stream of lines, and
 * sample paths still appear as they land.
 */
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { tempWorkspace } from "../support/run-cli.js";
import { astronaut, writeAll } from "../support/selfies/build.js";
import { fakeEnv, makeFakeCheckout } from "../support/fake-ai-toolkit/harness.js";

/** A stand-in terminal: what ora needs from a TTY stream (cursor moves are recorded as text). */
class FakeTerminal {
  text = "";
  isTTY = true;
  columns = 120;
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
  cursorTo(x: number): boolean {
    this.text += x === 0 ? "\r" : "";
    return true;
  }
  clearLine(): boolean {
    return true;
  }
  moveCursor(): boolean {
    return true;
  }
}

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  ws = await tempWorkspace("headshot-train-tty-");
  env = { ...fakeEnv(), HOME: ws.dir, HEADSHOT_HOME: ws.home, AI_TOOLKIT_DIR: await makeFakeCheckout(ws.dir), NO_COLOR: "1" };
  await writeAll(join(ws.dir, "selfies"), { "one.jpg": await astronaut({ size: 1100 }) });
});
afterAll(async () => {
  await ws.cleanup();
});

it("renders a live bar on a TTY and finishes it with a tick", async () => {
  const stdout = new FakeTerminal();
  const stderr = new FakeTerminal();
  const code = await main(["train", "./selfies", "--name", "jane", "--backend", "local", "--steps", "12", "--force"], {
    cwd: ws.dir,
    env,
    stdout,
    stderr,
    stdinIsTTY: true,
    signal: new AbortController().signal,
  });
  const err = stripVTControlCharacters(stderr.text);
  expect(code, err).toBe(0);
  // The bar is redrawn in place: several frames, each starting at column 0.
  const frames = err.split("\r").filter((f) => /training jane [█░]{20} \d+\/12/.test(f));
  expect(frames.length).toBeGreaterThan(1);
  expect(err).toContain("✔ trained jane (12 steps)");
  expect(err).toMatch(/sample step 12: .*__000000012_0\.jpg/);
});

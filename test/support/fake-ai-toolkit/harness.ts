/**
 * Helpers for tests that run the fake ai-toolkit checkout (this folder) and the fake nvidia-smi
 * (test/support/fake-bin). Each test gets its own copy of the checkout in a temp folder so the
 * venv/.venv lookup can be changed and nothing is written into the repo.
 */
import { cp, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { GlobalSettings } from "../../../src/settings/settings.js";

export const FAKE_CHECKOUT = dirname(fileURLToPath(import.meta.url));
export const FAKE_BIN = join(FAKE_CHECKOUT, "..", "fake-bin");
export const RTX_4090 = "NVIDIA GeForce RTX 4090,24564,24100";

/** Copies the fake checkout to `<parent>/ai-toolkit`; `venv` picks which interpreter folder exists. */
export async function makeFakeCheckout(parent: string, venv: "venv" | ".venv" | "none" = "venv"): Promise<string> {
  const dir = join(parent, "ai-toolkit");
  await cp(FAKE_CHECKOUT, dir, { recursive: true, filter: (src) => !src.endsWith(".ts") && !src.includes("__pycache__") });
  if (venv === ".venv") await rename(join(dir, "venv"), join(dir, ".venv"));
  if (venv === "none") await rm(join(dir, "venv"), { recursive: true, force: true });
  return dir;
}

/** Environment with the fake nvidia-smi first on PATH and fast training steps. */
export function fakeEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    PATH: `${FAKE_BIN}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: process.env.HOME,
    FAKE_GPU: RTX_4090,
    FAKE_AITK_STEP_SECONDS: "0.005",
    ...extra,
  };
}

export function toolkitSettings(dir: string | undefined, python?: string): Pick<GlobalSettings, "aiToolkitDir" | "aiToolkitPython"> {
  return {
    aiToolkitDir: dir === undefined ? { value: undefined, source: "default" } : { value: dir, source: "flag", from: "--ai-toolkit" },
    aiToolkitPython: python === undefined ? { value: undefined, source: "default" } : { value: python, source: "env", from: "AI_TOOLKIT_PYTHON" },
  };
}

// A 1x1 JPEG: the fake only looks at file names, never at pixels.
const TINY_JPEG = Buffer.from(
  "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbfcffd9",
  "hex",
);

/** A hand-made prepared dataset: n images with captions, like prepareTrainingSet writes. */
export async function makeDataset(dir: string, n: number, trigger = "ohwx"): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (let i = 1; i <= n; i++) {
    const stem = `${String(i).padStart(2, "0")}-selfie`;
    await writeFile(join(dir, `${stem}.jpg`), TINY_JPEG);
    await writeFile(join(dir, `${stem}.txt`), `${trigger} person, close-up portrait photo\n`);
  }
  return dir;
}

/** Lines the fake's FAKE_AITK_RECORD file collected: one per run.py start. */
export interface RecordedRun {
  argv: string[];
  cwd: string;
  env: Record<string, string | null>;
}

/**
 * `headshot train --backend replicate` in-process against the Replicate emulator: the real selfie
 * check and preparation, the real `replicate` client over HTTP, real zip upload, real tar download
 * and extraction. The emulator's request log proves what was (and was not) paid for.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import exifr from "exifr";
import yauzl from "yauzl";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { defaultFaults } from "../support/replicate-emulator/faults.js";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { runCli } from "../support/run-cli.js";
import { replicateTrainWorkspace, type ReplicateTrainWorkspace } from "../support/replicate-train-workspace.js";
import { readTar, remoteState, sha256 } from "../unit/training-replicate/support.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let ws: ReplicateTrainWorkspace["ws"];
let emu: ReplicateEmulator;
let env: Record<string, string>;

beforeAll(async () => {
  ({ ws, emu, env } = await replicateTrainWorkspace("headshot-train-rep-", { trainingMs: 600, seed: 7 }));
});
afterAll(async () => {
  await emu.close();
  await ws.cleanup();
});
beforeEach(() => {
  Object.assign(emu.faults, defaultFaults());
  emu.clearLog();
});

const train = (name: string, extra: string[] = [], over: Record<string, string> = {}) =>
  runCli(["--json", "train", "./selfies", "--name", name, "--backend", "replicate", ...extra], { cwd: ws.dir, env: { ...env, ...over } });

const identity = async (name: string): Promise<Json> => JSON.parse(await readFile(join(ws.home, "identities", name, "identity.json"), "utf8")) as Json;
const paidCreates = () => emu.count("POST", /\/trainings$/);
const errorOf = (lines: Json[]): Json => (lines.at(-1) as Json).error as Json;

function zipEntries(bytes: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error("no zip"));
      const out = new Map<string, Buffer>();
      zip.on("entry", (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error("no stream"));
          const parts: Buffer[] = [];
          stream.on("data", (c: Buffer) => parts.push(c));
          stream.on("end", () => {
            out.set(entry.fileName, Buffer.concat(parts));
            zip.readEntry();
          });
        });
      });
      zip.on("end", () => resolve(out));
      zip.readEntry();
    });
  });
}

describe("headshot train --backend replicate", () => {
  it("uploads a clean zip, trains once, downloads and registers the LoRA (--json)", async () => {
    const r = await train("jane");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.json();
    const types = new Set(lines.map((l) => l.type));
    for (const t of ["train.phase", "train.progress", "summary"]) expect(types).toContain(t);
    // Validated against the trainer's training inputs (its Input is the prediction schema).
    expect(lines.some((l) => l.type === "train.phase" && /inputs match its TrainingInput schema/.test(String(l.message)))).toBe(true);
    const progress = lines.filter((l) => l.type === "train.progress");
    expect(progress.at(-1)).toMatchObject({ step: 1000, total: 1000, percent: 100 });
    const summary = lines.at(-1) as Json;
    expect(summary).toMatchObject({ type: "summary", ok: true, name: "jane", backend: "replicate", alreadyTrained: false, steps: 1000, trigger: "ohwx" });
    expect(summary.replicate.version).toMatch(/^jane-doe\/headshot-jane:[0-9a-f]{64}$/);
    // Billed: metrics.predict_time x the H100 rate (the emulator's trainings last well under a second).
    expect(summary.replicate.billedSeconds).toBeGreaterThan(0);
    expect(summary.replicate.billedUsd).toBeCloseTo(summary.replicate.billedSeconds * 0.001525, 2);

    // Paid exactly once; destination created private first (replicate/replicate-python#419).
    expect(paidCreates()).toBe(1);
    expect(emu.count("POST", /^\/models$/)).toBe(1);
    const model = emu.state.models.get("jane-doe/headshot-jane");
    expect(model?.visibility).toBe("private");

    // The trainer inputs: our captions carry the trigger, so autocaption is off.
    const job = [...emu.state.jobs.values()].find((j) => j.kind === "training") as Json;
    expect(job.input).toMatchObject({ trigger_word: "ohwx", autocaption: false, steps: 1000, learning_rate: 4e-4, lora_rank: 16, resolution: "512,768,1024" });
    expect(job.input.input_images).toMatch(new RegExp(`^${emu.baseUrl}/files/`));

    // The zip: only images and same-named captions, no EXIF.
    const file = [...emu.state.files.values()][0] as Json;
    const entries = await zipEntries(file.bytes as Buffer);
    const names = [...entries.keys()];
    expect(names.length).toBe(16);
    expect(names.every((n) => /^\d\d-[\w.-]+\.(jpg|txt)$/.test(n))).toBe(true);
    for (const [name, bytes] of entries) {
      if (name.endsWith(".txt")) expect(bytes.toString("utf8")).toMatch(/^ohwx person/);
      else expect(await exifr.parse(bytes, { tiff: true, xmp: true, gps: true }).catch(() => undefined)).toBeUndefined();
    }

    // The LoRA is the tar's file, byte for byte; the identity records the version and weights.
    const id = await identity("jane");
    const tar = await readTar(Buffer.from(await (await fetch(id.replicate.weights as string)).arrayBuffer()));
    const lora = tar.get("output/flux_train_replicate/lora.safetensors") as Buffer;
    expect(id.lora.sha256).toBe(sha256(lora));
    expect(sha256(await readFile(id.lora.path as string))).toBe(sha256(lora));
    expect(id).toMatchObject({ backend: "replicate", trigger: "ohwx", replicate: { version: summary.replicate.version, destination: "jane-doe/headshot-jane", trainer: expect.stringMatching(/^ostris\/flux-dev-lora-trainer:[0-9a-f]{64}$/) } });
    expect(JSON.stringify(id)).not.toContain(emu.token);

    // Re-running does nothing and pays nothing.
    emu.clearLog();
    const again = await train("jane");
    expect(again.code).toBe(0);
    expect(again.json().at(-1)).toMatchObject({ alreadyTrained: true });
    expect(emu.requests.length).toBe(0);
  });

  it("--dry-run prints the trainer inputs and an estimated cost without any request", async () => {
    const r = await train("dry", ["--dry-run", "--steps", "1200"]);
    expect(r.code).toBe(0);
    const summary = r.json().at(-1) as Json;
    expect(summary).toMatchObject({ dryRun: true, backend: "replicate", trainer: "ostris/flux-dev-lora-trainer", destination: "<your account>/headshot-dry", inputSchema: "TrainingInput" });
    expect(summary.input).toMatchObject({ steps: 1200, autocaption: false, trigger_word: "ohwx", learning_rate: 4e-4 });
    // 1200 steps x 1.2 s/step x $0.001525/s
    expect(summary.estimate.usd).toBeCloseTo(2.2, 2);
    expect(emu.requests.length).toBe(0);
    const human = await runCli(["train", "./selfies", "--name", "dry", "--backend", "replicate", "--dry-run"], { cwd: ws.dir, env });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('"autocaption": false');
    expect(human.stderr).toMatch(/estimated cost: about \$1\.83/);
    expect(human.stderr).toMatch(/checked against the trainer version's TrainingInput schema/);
  });

  it("refuses more steps than the trainer takes (6000, flux-fine-tuner train.py) without any request", async () => {
    const r = await train("bad", ["--steps", "8000"]);
    expect(r.code).toBe(2);
    expect(errorOf(r.json())).toMatchObject({ code: "E_TRAIN_OPTIONS", message: expect.stringMatching(/--steps .*6000/) });
    expect(emu.requests.length).toBe(0);
  });

  it("checks the inputs against the trainer version's live TrainingInput schema before uploading or creating anything", async () => {
    // A trainer version that changed its inputs: the schema read from Replicate now caps steps at 500.
    const trainer = emu.state.models.get("ostris/flux-dev-lora-trainer");
    const version = trainer?.versions.at(-1);
    if (!version) throw new Error("no trainer version");
    const original = structuredClone(version.openapi_schema);
    const schemas = (version.openapi_schema as { components: { schemas: Record<string, { properties: Record<string, Json> }> } }).components.schemas;
    (schemas.TrainingInput as { properties: Record<string, Json> }).properties.steps = { type: "integer", title: "Steps", minimum: 3, maximum: 500, default: 300 };
    try {
      const r = await train("bad", ["--steps", "1200"]);
      expect(r.code).toBe(2);
      const error = errorOf(r.json());
      expect(error.code).toBe("E_REPLICATE_INPUT_INVALID");
      expect(error.message).toMatch(/does not match its TrainingInput schema/);
      expect(error.details.join("\n")).toMatch(/input\.steps: Must be less than or equal to 500/);
      expect(emu.count("POST", /^\/files$/)).toBe(0);
      expect(emu.count("POST", /^\/models$/)).toBe(0);
      expect(paidCreates()).toBe(0);
    } finally {
      version.openapi_schema = original;
    }
  });

  it("401: a bad token stops before anything is sent", async () => {
    const r = await train("tok", [], { REPLICATE_API_TOKEN: "r8_wrongTokenValue0123456789" });
    expect(r.code).toBe(4);
    const error = errorOf(r.json());
    expect(error.code).toBe("E_REPLICATE_401");
    expect(error.hint).toMatch(/api-tokens/);
    expect(r.stdout + r.stderr).not.toContain("r8_wrongTokenValue0123456789");
    expect(emu.count("POST", /^\/files$/)).toBe(0);
  });

  it("a missing token is a usage error with the fix", async () => {
    const r = await train("tok", [], { REPLICATE_API_TOKEN: "" });
    expect(r.code).toBe(2);
    expect(errorOf(r.json()).code).toBe("E_REPLICATE_TOKEN_MISSING");
    expect(emu.requests.length).toBe(0);
  });

  it("402: out of credit; after topping up, the re-run reuses the upload and pays once", async () => {
    emu.faults.insufficientCredit = true;
    const r = await train("credit");
    expect(r.code).toBe(4);
    expect(errorOf(r.json())).toMatchObject({ code: "E_REPLICATE_402", hint: expect.stringMatching(/billing/) });
    expect(paidCreates()).toBe(1); // refused, nothing created
    expect(emu.state.jobs.size).toBeGreaterThan(0);
    const trainingsBefore = [...emu.state.jobs.values()].filter((j) => j.kind === "training").length;

    emu.faults.insufficientCredit = false;
    const ok = await train("credit");
    expect(ok.code).toBe(0);
    expect(emu.count("POST", /^\/files$/)).toBe(1); // the intent's upload was reused
    expect([...emu.state.jobs.values()].filter((j) => j.kind === "training").length).toBe(trainingsBefore + 1);
  });

  it("uses an existing --destination without creating a model", async () => {
    const first = await train("dest1", ["--destination", "shared-faces"]);
    expect(first.code).toBe(0);
    expect(emu.count("POST", /^\/models$/)).toBe(1);
    emu.clearLog();
    const second = await train("dest2", ["--destination", "jane-doe/shared-faces"]);
    expect(second.code).toBe(0);
    expect(emu.count("POST", /^\/models$/)).toBe(0);
    expect((second.json().at(-1) as Json).replicate.version).toMatch(/^jane-doe\/shared-faces:/);
  });

  it("a failed training reports its error and log tail; re-running does not pay again; --restart does", async () => {
    emu.faults.trainingError = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB";
    const r = await train("fails");
    expect(r.code).toBe(5);
    const error = errorOf(r.json());
    expect(error.code).toBe("E_REPLICATE_TRAINING_FAILED");
    expect(error.message).toMatch(/CUDA out of memory/);
    expect(error.details.join("\n")).toMatch(/Last log lines/);
    expect(error.hint).toMatch(/--restart/);
    expect(paidCreates()).toBe(1);

    emu.faults.trainingError = null;
    const again = await train("fails");
    expect(again.code).toBe(5);
    expect(paidCreates()).toBe(1);

    const restarted = await train("fails", ["--restart"]);
    expect(restarted.code).toBe(0);
    expect(paidCreates()).toBe(2);
  });

  it("a create whose answer is lost (socket dropped after commit) is found, not repeated", async () => {
    const before = [...emu.state.jobs.values()].filter((j) => j.kind === "training").length;
    emu.faults.dropNextCreates = 1;
    emu.faults.dropMode = "after";
    const r = await train("dropped");
    expect(r.code).toBe(0);
    expect([...emu.state.jobs.values()].filter((j) => j.kind === "training").length).toBe(before + 1);
    expect(emu.count("GET", /^\/trainings$/)).toBeGreaterThanOrEqual(1);
  });

  it("recovers a training created by a run that died before recording its id (no second create)", async () => {
    const r = await train("lost");
    expect(r.code).toBe(0);
    // What a crash between the create and the write of its id leaves: the intent only.
    const state = (await remoteState(ws.home, "lost")) as Json;
    const { training: _t, status: _s, output: _o, lora: _l, metrics: _m, completedAt: _c, error: _e, ...intent } = state;
    const { writeFile, rm } = await import("node:fs/promises");
    await writeFile(join(ws.home, "identities", "lost", "training", "replicate.json"), JSON.stringify(intent));
    await rm(join(ws.home, "identities", "lost", "identity.json"));
    emu.clearLog();
    const again = await train("lost");
    expect(again.code).toBe(0);
    expect(paidCreates()).toBe(0);
    expect(emu.count("GET", /^\/trainings$/)).toBe(1);
    expect(((await remoteState(ws.home, "lost")) as Json).training.id).toBe(state.training.id);
  });
});

describe("upload limits", () => {
  it("413 from the files API is a clear error and nothing is paid", async () => {
    const small = await startReplicateEmulator({ maxFileBytes: 64 * 1024, seed: 9 });
    try {
      const r = await train("big", [], { REPLICATE_API_TOKEN: small.token, REPLICATE_BASE_URL: small.baseUrl });
      expect(r.code).toBe(4);
      expect(errorOf(r.json())).toMatchObject({ code: "E_REPLICATE_413", hint: expect.stringMatching(/100 MiB/) });
      expect(small.count("POST", /\/trainings$/)).toBe(0);
    } finally {
      await small.close();
    }
  });
});

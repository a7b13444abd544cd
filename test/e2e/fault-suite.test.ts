/**
 * The batch fault suite: one batch file (Replicate people, a Replicate training, a local ai-toolkit
 * training with local generation, a test-mode person) run by the built binary against the
 * Replicate emulator and the fake ai-toolkit, with every fault of issue 10 injected:
 * throttling storms, 5xx, dropped connections, a failed training, a crashed local trainer, expired
 * outputs, a full output disk (a 64 MB tmpfs when mounting is allowed, see `diskFull`), and 20+
 * `kill -9`s of the CLI at random moments, each followed by a re-run. Then, once: every expected
 * image present once, no paid work done twice (the emulator's own job list), manifests consistent
 * with the files, no temp files left. The tally is printed.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { defaultFaults } from "../support/replicate-emulator/faults.js";
import { fakeEnv, makeFakeCheckout } from "../support/fake-ai-toolkit/harness.js";
import { BRAND_PRESET, writeSelfies, writeText } from "../support/batch/workspace.js";
import { addTrainedModel, registerIdentity } from "../unit/generation/fixtures.js";
import { seededRandom } from "../support/replicate-emulator/http.js";
import { BIN, onJsonLines, type Json } from "../support/cli-binary.js";

const STANDINS = join(process.cwd(), "test", "support", "python-standins");
/**
 * A safety net, not a measurement: one batch run (six people, trainings included) took over 120 s
 * on a 2-core machine at load 19 with a second test file running beside it. The test's own
 * timeout is a generous multiple of it; afterAll kills what is still running.
 */
const RUN_TIMEOUT_MS = 300_000;
/** kill -9s in the kill phase (a run that finishes before its kill moment does not count). */
const KILLS = 22;

let dir: string;
let emu: ReplicateEmulator;
let env: Record<string, string>;
let mounted = false;
const noise: string[] = [];
/** CLI runs still going: killed in afterAll, so a timed-out test stops its work too. */
const live = new Set<ResultPromise>();


const team = (extraAnn = "") => `out: ./headshots
budget: 50
concurrency: 4
defaults:
  presets: [{preset: linkedin, count: 3}, {preset: ./presets/brand.yaml, count: 2}]
  trainSteps: 120
people:
  - name: ann
    identity: ann${extraAnn}
  - name: bob
    identity: bob
  - name: cy
    identity: cy
  - name: dee
    selfies: ./selfies/dee
    backend: replicate
  - name: eve
    selfies: ./selfies/eve
    backend: local
    presets: [{preset: linkedin, count: 2}]
  - name: fay
    selfies: ./selfies/fay
    backend: test
    presets: [{preset: corporate, count: 3}]
`;
const ANN_EXTRA = "\n    presets: [{preset: linkedin, count: 3}, {preset: ./presets/brand.yaml, count: 2}, {preset: executive, count: 4}]";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "headshot-faults-"));
  emu = await startReplicateEmulator({ latencyMs: 400, trainingMs: 900, preferWaitUnitMs: 30, seed: 10 });
  const home = join(dir, "home");
  for (const name of ["ann", "bob", "cy"]) await registerIdentity(home, name, { backend: "replicate", replicate: { version: addTrainedModel(emu, `face-${name}`) } });
  for (const name of ["dee", "eve", "fay"]) await writeSelfies(join(dir, "selfies", name));
  await writeText(join(dir, "presets", "brand.yaml"), BRAND_PRESET);
  await writeText(join(dir, "team.yaml"), team());
  const toolkit = await makeFakeCheckout(dir);
  // ai-toolkit's venv python with the diffusers/torch stand-ins first, so local generation runs too.
  const python = join(dir, "python");
  await writeFile(python, `#!/bin/sh\nPYTHONPATH="${STANDINS}:${toolkit}/fake-site-packages\${PYTHONPATH:+:$PYTHONPATH}" exec python3 "$@"\n`);
  await chmod(python, 0o755);
  env = {
    ...(fakeEnv() as Record<string, string>),
    FAKE_AITK_STEP_SECONDS: "0.01",
    HOME: dir,
    HEADSHOT_HOME: home,
    AI_TOOLKIT_DIR: toolkit,
    AI_TOOLKIT_PYTHON: python,
    REPLICATE_API_TOKEN: emu.token,
    REPLICATE_BASE_URL: emu.baseUrl,
  };
  // The output folder on a 64 MB tmpfs, so "disk full" is a real ENOSPC from the kernel (step 4
  // fills it with a ballast file). 64 MB, not 4: fay's test-mode images are rehearsal previews
  // drawn from her selfies (issue 15), megabytes each, which filled 4 MB in step 1.
  await mkdir(join(dir, "headshots"), { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", join(dir, "headshots")], { stdio: "ignore" });
    mounted = true;
  } catch {
    mounted = false; // no CAP_SYS_ADMIN: the disk-full phase is skipped (and says so)
  }
});
afterAll(async () => {
  for (const child of live) child.kill("SIGKILL");
  await Promise.all([...live].map((child) => child.catch(() => undefined)));
  await emu.close();
  if (mounted) execFileSync("umount", [join(dir, "headshots")], { stdio: "ignore" });
  if (process.env.FAULT_SUITE_KEEP) process.stderr.write(`kept ${dir}\n`);
  else await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | undefined;
  killed: boolean;
  /** When SIGKILL was sent (not when this process noticed the exit, which is later under load). */
  killedAt?: number;
  lines: Json[];
  stderr: string;
}

/** Runs `headshot --json batch team.yaml`; SIGKILLs it after `killAfterMs` (or when `killWhen` says). */
async function batch(extraEnv: Record<string, string> = {}, kill: { afterMs?: number; when?: (lines: Json[]) => boolean; delayMs?: number } = {}, args: string[] = []): Promise<Run> {
  const child: ResultPromise = execa("node", [BIN, "--json", "batch", "team.yaml", ...args], { cwd: dir, env: { ...env, ...extraEnv }, extendEnv: false, reject: false, stdin: "ignore", buffer: { stdout: false, stderr: true }, timeout: RUN_TIMEOUT_MS });
  const started = Date.now();
  const lines: Json[] = [];
  let killed = false;
  let killedAt: number | undefined;
  const doKill = () => {
    if (killed || child.exitCode !== null) return;
    killedAt = Date.now();
    killed = child.kill("SIGKILL");
  };
  const timer = kill.afterMs !== undefined ? setTimeout(doKill, kill.afterMs) : undefined;
  onJsonLines(
    child.stdout,
    (line) => {
      lines.push(line);
      if (kill.when?.(lines)) setTimeout(doKill, kill.delayMs ?? 0);
    },
    (text) => noise.push(text.slice(0, 300)), // --json promises only JSON lines on stdout: asserted at the end
  );
  live.add(child);
  const result = await child.finally(() => live.delete(child));
  if (timer) clearTimeout(timer);
  if (process.env.FAULT_SUITE_DEBUG) {
    // FAULT_SUITE_DEBUG=1: one line per run on stderr, and each run's events in the temp folder.
    await writeFile(join(tmpdir(), `fault-suite-run-${Date.now()}.ndjson`), lines.map((l) => JSON.stringify(l)).join("\n"));
    process.stderr.write(`run: exit ${String(result.exitCode)} ${result.signal ?? ""} after ${Date.now() - started} ms, ${lines.length} lines, last ${JSON.stringify(lines.at(-1) ?? {}).slice(0, 300)}\n${String(result.stderr ?? "").slice(-2000)}\n`);
  }
  return { code: result.exitCode, killed: killed && result.signal === "SIGKILL", ...(killedAt !== undefined ? { killedAt } : {}), lines, stderr: String(result.stderr ?? "") };
}

const summaryOf = (run: Run): Json => run.lines.at(-1) ?? {};
const peopleOf = (run: Run): Json[] => (summaryOf(run).people ?? summaryOf(run).error?.summary?.people ?? []) as Json[];

async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(root, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const e of entries) out.push(join(e.parentPath, e.name));
  return out;
}

describe("headshot batch fault suite", () => {
  it("loses nothing and pays nothing twice under storms, failures, a full disk and 20+ kill -9s", { timeout: 900_000 }, async () => {
    const tally = { faults: {} as Record<string, number>, killsSurvived: 0, imagesLost: 0, duplicates: 0, remadeAfterExpiry: 0, runs: 0 };
    const count = (fault: string, n = 1) => (tally.faults[fault] = (tally.faults[fault] ?? 0) + n);
    const expiredRemakes = new Map<string, number>();
    /** Predictions the engine re-attached to and found deleted (image.retry kind expired names them). */
    const expiredIds = new Set<string>();
    const noteRun = (run: Run) => {
      tally.runs++;
      for (const l of run.lines) {
        if (l.type !== "gen.image.retry" || l.kind !== "expired") continue;
        expiredRemakes.set(`${l.person}/${l.preset}/${l.key}`, (expiredRemakes.get(`${l.person}/${l.preset}/${l.key}`) ?? 0) + 1);
        if (typeof l.remoteId === "string") expiredIds.add(l.remoteId);
      }
      return run;
    };

    // 1. Storms and 5xx, a failed Replicate training and a crashed local trainer.
    Object.assign(emu.faults, defaultFaults(), {
      throttleCreates: 0.3,
      throttleOthers: 0.1,
      retryAfterSeconds: 1,
      failGets: 0.15,
      failCreatesAfterCommit: 0.1,
      failDownloads: 0.1,
      trainingError: "CUDA error: an illegal memory access was encountered",
    });
    count("throttling storm (30% of creates, 10% of other calls answered 429)");
    count("5xx on 15% of GETs, 10% of creates answered 500 after committing");
    count("failed downloads (10%)");
    const first = noteRun(await batch({ FAKE_AITK_CRASH_AT_STEP: "40" }));
    const firstPeople = Object.fromEntries(peopleOf(first).map((p) => [p.name, p]));
    expect(first.code, first.stderr + JSON.stringify(summaryOf(first)).slice(0, 3000)).toBe(5);
    expect(firstPeople.dee?.failures[0]?.code).toBe("E_REPLICATE_TRAINING_FAILED");
    expect(firstPeople.dee?.resume).toContain("--retrain-failed");
    expect(firstPeople.eve?.failures[0]?.code).toBe("E_TRAIN_CRASHED");
    count("failed Replicate training");
    count("crashed local trainer (ai-toolkit RuntimeError at step 40)");
    for (const name of ["ann", "bob", "cy", "fay"]) expect(firstPeople[name]?.status, JSON.stringify(firstPeople[name])).toBe("done");
    expect(emu.requests.some((r) => r.status === 429)).toBe(true);

    // 1b. Dropped connections (before and after the server acted) on every kind of request.
    Object.assign(emu.faults, defaultFaults(), { dropSockets: 0.08, dropMode: "mixed", throttleCreates: 0.1 });
    await writeFile(join(dir, "presets", "brand.yaml"), BRAND_PRESET.replace("smooth teal", "smooth teal (dropped)"));
    // Every run from here on passes --retrain-failed: dee's training failed in step 1, and whether
    // a later run gets to retrain it must not depend on when the kills land (issue 14).
    const dropped = noteRun(await batch({}, {}, ["--retrain-failed"]));
    expect([0, 4, 5], JSON.stringify(summaryOf(dropped)).slice(0, 2000)).toContain(dropped.code);
    count("dropped connections (8% of requests)");

    // 2. 22 kill -9s at random moments (lighter storms continue), each followed by a re-run.
    Object.assign(emu.faults, defaultFaults(), { throttleCreates: 0.15, failGets: 0.05, dropSockets: 0.02, dropMode: "mixed", retryAfterSeconds: 1 });
    // More work for the kills to interrupt: ann gets a third preset (only it is new).
    await writeText(join(dir, "team.yaml"), team(ANN_EXTRA));
    const random = seededRandom(20261127);
    for (let i = 0; tally.killsSurvived < KILLS && i < 2 * KILLS; i++) {
      const afterMs = 250 + Math.floor(random() * 2200);
      // A failed Replicate training is only paid for again when asked (--retrain-failed).
      const run = noteRun(await batch({}, { afterMs }, ["--retrain-failed"]));
      if (run.killed) {
        tally.killsSurvived++;
        count("kill -9 of the CLI");
      }
      // Whatever a killed run left, a manifest is always valid JSON.
      for (const path of (await walk(join(dir, "headshots"))).filter((p) => p.endsWith("manifest.json"))) JSON.parse(await readFile(path, "utf8"));
      if (!run.killed && run.code === 0) {
        // Finished before the kill: new work for the next kills (a changed preset).
        await writeFile(join(dir, "presets", "brand.yaml"), BRAND_PRESET.replace("smooth teal", `smooth teal ${i}`));
        count("preset changed between runs");
      }
    }
    expect(tally.killsSurvived).toBeGreaterThanOrEqual(20);

    // 2b. One run that is not killed collects what the kill phase paid for. Under load a killed run
    // may spend all its time starting up, so a preset reached late (ann/executive) can go through
    // many kills with its finished predictions recorded and re-attached but not yet downloaded.
    // Step 3 shortens retention for every job, old ones too: without this run, those outputs
    // would be deleted by the test itself, long after the CLI last saw them.
    Object.assign(emu.faults, defaultFaults());
    const settled = noteRun(await batch({}, {}, ["--retrain-failed"]));
    expect(settled.code, settled.stderr + JSON.stringify(summaryOf(settled)).slice(0, 3000)).toBe(0);
    // Retention is still an hour: nothing the kill phase recorded may have to be made again.
    expect(settled.lines.filter((l) => l.type === "gen.image.retry" && l.kind === "expired")).toEqual([]);

    // 3. Expired outputs: predictions finish while the CLI is dead and Replicate deletes them.
    // Predictions take 1.5 s and outputs live 2 s here (Replicate: an hour); the CLI is killed
    // 0.3 s after its second create was answered and re-run 4.5 s later.
    emu.setPredictionDuration(1_500);
    await writeFile(join(dir, "presets", "brand.yaml"), BRAND_PRESET.replace("smooth teal", "smooth teal expired"));
    const expiring = noteRun(await batch({}, { when: (lines) => lines.filter((l) => l.type === "gen.image.created").length >= 2, delayMs: 300 }, ["--retrain-failed"]));
    expect(expiring.killed).toBe(true);
    tally.killsSurvived++;
    const killedAt = expiring.killedAt ?? Date.now();
    const RETENTION_MS = 2_000;
    const retentionCutAt = Date.now();
    emu.setRetention(RETENTION_MS);
    emu.setPredictionDuration(400);
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    const rerunAt = Date.now();
    const afterExpiry = noteRun(await batch({}, {}, ["--retrain-failed"]));
    emu.setRetention(3_600_000);
    const retentionRestoredAt = Date.now();
    /**
     * Whether the emulator had deleted `job`'s output at time `t` (it applies retention to every
     * job, whenever it ended: jobs.ts `render`, routes-files.ts): only while it was cut to 2 s.
     */
    const outputGoneAt = (job: { endAt: number }, t: number) => t >= retentionCutAt && t < retentionRestoredAt && t >= job.endAt + RETENTION_MS;
    /** Predictions the killed run left that ended while the CLI was dead and were deleted before the re-run. */
    const expiredWhileDead = (job: { endAt: number }) => job.endAt >= killedAt - 1_000 && outputGoneAt(job, rerunAt);
    const expiredJobs = [...emu.state.jobs.values()].filter((j) => j.kind === "prediction" && j.outcome.status === "succeeded" && expiredWhileDead(j)).length;
    const expiredSeen = [...expiredRemakes.values()].reduce((a, b) => a + b, 0);
    expect(expiredJobs, JSON.stringify(summaryOf(afterExpiry)).slice(0, 2000)).toBeGreaterThan(0);
    count("expired outputs (Replicate deleted them before the re-run)", expiredJobs);

    // 4. The output disk is full: a clear error naming the folder; nothing half-written; re-run completes.
    let diskFullNote = "skipped: no permission to mount a tmpfs here";
    if (mounted) {
      await writeText(join(dir, "team.yaml"), team(ANN_EXTRA.replace("executive, count: 4", "executive, count: 6")));
      const free = Number(execFileSync("df", ["-B1", "--output=avail", join(dir, "headshots")]).toString().split("\n")[1]);
      execFileSync("fallocate", ["-l", String(Math.max(0, free - 16_384)), join(dir, "headshots", "ballast")]);
      const full = noteRun(await batch({}, {}, ["--retrain-failed"]));
      expect(full.code, JSON.stringify(summaryOf(full)).slice(0, 2000)).not.toBe(0);
      const fullText = JSON.stringify(summaryOf(full));
      expect(fullText).toContain("E_DISK_FULL");
      expect(fullText).toContain(join(dir, "headshots"));
      await rm(join(dir, "headshots", "ballast"));
      count("full output disk (ENOSPC from a full tmpfs)");
      diskFullNote = "real ENOSPC (tmpfs)";
    }

    // 5. The final re-run, no faults: everything completes.
    const final = noteRun(await batch({}, {}, ["--retrain-failed"]));
    expect(final.code, final.stderr + JSON.stringify(summaryOf(final)).slice(0, 3000)).toBe(0);
    const people = peopleOf(final);
    expect(people.every((p) => p.status === "done")).toBe(true);

    // Invariants, once. Every expected image present once, manifests consistent with files.
    const expected: Record<string, Record<string, number>> = {
      ann: { linkedin: 3, brand: 2, executive: mounted ? 6 : 4 },
      bob: { linkedin: 3, brand: 2 },
      cy: { linkedin: 3, brand: 2 },
      dee: { linkedin: 3, brand: 2 },
      eve: { linkedin: 2 },
      fay: { corporate: 3 },
    };
    let present = 0;
    let wanted = 0;
    const liveInputs = new Set<string>();
    for (const [person, presets] of Object.entries(expected)) {
      for (const [preset, n] of Object.entries(presets)) {
        wanted += n;
        const folder = join(dir, "headshots", person, preset);
        const manifest = JSON.parse(await readFile(join(folder, "manifest.json"), "utf8")) as Json;
        const entries = Object.values(manifest.images) as Json[];
        const done = entries.filter((e) => e.status === "done");
        expect(entries.length, `${person}/${preset}`).toBe(n);
        const images = (await readdir(folder)).filter((f) => /\.(png|jpg|webp)$/.test(f) && f !== "contact-sheet.png");
        expect(new Set(images), `${person}/${preset}`).toEqual(new Set(done.map((e) => e.file)));
        for (const e of done) {
          const bytes = await readFile(join(folder, e.file));
          expect(createHash("sha256").update(bytes).digest("hex")).toBe(e.sha256);
          await stat(join(folder, e.sidecar));
          if (person !== "eve" && person !== "fay") liveInputs.add(JSON.stringify({ ...e.inputs }));
          present++;
        }
        expect(done.every((e) => e.placeholder === (person === "fay") || (person !== "fay" && e.placeholder === undefined))).toBe(true);
      }
    }
    tally.imagesLost = wanted - present;

    // No paid work twice: the emulator's succeeded predictions per image input, minus the
    // re-makes Replicate forced by deleting an output (counted above from the run's events).
    const succeeded = new Map<string, number>();
    for (const job of emu.state.jobs.values()) {
      if (job.kind !== "prediction" || job.outcome.status !== "succeeded" || job.canceledAt !== undefined) continue;
      const key = JSON.stringify(job.input);
      succeeded.set(key, (succeeded.get(key) ?? 0) + 1);
    }
    for (const key of liveInputs) expect(succeeded.get(key) ?? 0, key.slice(0, 200)).toBeGreaterThanOrEqual(1);
    // Extra succeeded predictions of one image are duplicates unless the output of the one before
    // was already deleted when the new one was created AND the CLI had re-attached to that very
    // prediction and was told so (its id in an expired retry event): then the image had to be
    // made again. A prediction the CLI lost track of counts as paid twice, deleted or not.
    // Judged from the emulator's own retention, not from a time window around the kill: a window
    // misjudges a prediction that ended earlier and was re-attached but not downloaded by runs
    // killed meanwhile, and it depends on when this process noticed the kill (issue 14).
    const byInput = new Map<string, Array<{ id: string; createdAt: number; endAt: number }>>();
    for (const job of emu.state.jobs.values()) {
      if (job.kind !== "prediction" || job.outcome.status !== "succeeded" || job.canceledAt !== undefined) continue;
      const key = JSON.stringify(job.input);
      byInput.set(key, [...(byInput.get(key) ?? []), job]);
    }
    for (const jobs of byInput.values()) {
      jobs.sort((a, b) => a.createdAt - b.createdAt);
      for (let i = 1; i < jobs.length; i++) {
        const prev = jobs[i - 1]!;
        if (outputGoneAt(prev, jobs[i]!.createdAt) && expiredIds.has(prev.id)) tally.remadeAfterExpiry++;
        else tally.duplicates++;
      }
    }
    expect(tally.remadeAfterExpiry).toBeLessThanOrEqual(expiredSeen);
    const trainings = [...emu.state.jobs.values()].filter((j) => j.kind === "training" && j.outcome.status === "succeeded" && j.canceledAt === undefined);
    expect(trainings).toHaveLength(1);
    const identityEvents = final.lines.filter((l) => l.type === "identity.trained");
    expect(identityEvents).toEqual([]);

    // No temp files of ours left anywhere (outputs, identities, raw downloads). ai-toolkit's own
    // `samples/.tmp/` staging folder (fake-ai-toolkit README: samples are written through it) is its business.
    const leftovers = [...(await walk(join(dir, "headshots"))), ...(await walk(env.HEADSHOT_HOME as string))].filter((p) => /\.headshot-tmp-/.test(p));
    expect(leftovers).toEqual([]);
    for (const raw of (await walk(join(dir, "headshots"))).filter((p) => p.endsWith(".headshot-raw"))) expect(await readdir(raw)).toEqual([]);

    console.log(
      [
        "",
        "fault suite tally",
        ...Object.entries(tally.faults).map(([k, v]) => `  fault: ${k} x${v}`),
        `  faults injected: ${Object.values(tally.faults).reduce((a, b) => a + b, 0)} (${Object.keys(tally.faults).length} kinds)`,
        `  kills survived: ${tally.killsSurvived}`,
        `  runs: ${tally.runs}`,
        `  full disk: ${diskFullNote}`,
        `  images expected: ${wanted}, present: ${present}`,
        `  images lost: ${tally.imagesLost}`,
        `  duplicates (paid twice): ${tally.duplicates}`,
        `  re-made because Replicate deleted the output while the CLI was dead (unavoidable): ${tally.remadeAfterExpiry} (${expiredSeen} reported by the engine as expired)`,
        "",
      ].join("\n"),
    );
    expect(noise).toEqual([]);
    expect(tally.imagesLost).toBe(0);
    expect(tally.duplicates).toBe(0);
  });
});

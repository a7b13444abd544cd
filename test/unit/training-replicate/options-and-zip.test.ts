import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTrainPlan } from "../../../src/training/plan.js";
import { zipDataset, embeddedMetadata } from "../../../src/training/replicate/dataset-zip.js";
import { buildTrainerInput, estimateCost, parseDestination, parseTrainerRef } from "../../../src/training/replicate/options.js";
import { readRemoteState } from "../../../src/training/replicate/remote-state.js";
import { withGps } from "../../support/selfies/build.js";
import { sha256 } from "./support.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-rep-opts-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const plan = (over: Record<string, unknown> = {}) => buildTrainPlan({ name: "Jane_1", home: "/h", selfiesDir: "/s", backend: "replicate", ...over });

describe("replicate training options", () => {
  it("defaults to the ostris trainer's tuned values; flags override", () => {
    expect(plan()).toMatchObject({ backend: "replicate", steps: 1000, lr: 4e-4, rank: 16 });
    expect(plan({ steps: 1500, lr: 1e-4 })).toMatchObject({ steps: 1500, lr: 1e-4 });
    expect(buildTrainPlan({ name: "j", home: "/h", selfiesDir: "/s" })).toMatchObject({ backend: "local", steps: 1500, lr: 1e-4 });
    expect(() => plan({ recipe: "flux2-klein-4b" })).toThrow(/FLUX\.1 dev only/);
  });

  it("builds trainer inputs with our captions (autocaption off)", () => {
    expect(buildTrainerInput(plan({ trigger: "zxq", resolutions: [512, 1024] }), "https://x/files/1")).toEqual({
      input_images: "https://x/files/1",
      trigger_word: "zxq",
      autocaption: false,
      steps: 1000,
      learning_rate: 4e-4,
      lora_rank: 16,
      resolution: "512,1024",
      caption_dropout_rate: 0.05,
      batch_size: 1,
      optimizer: "adamw8bit",
    });
  });

  it("parses --trainer and --destination", () => {
    expect(parseTrainerRef(undefined)).toEqual({ owner: "ostris", name: "flux-dev-lora-trainer" });
    expect(parseTrainerRef(`me/t:${"a".repeat(64)}`)).toEqual({ owner: "me", name: "t", version: "a".repeat(64) });
    expect(() => parseTrainerRef("ostris/flux:v1")).toThrow(expect.objectContaining({ code: "E_TRAINER_REF" }));
    expect(parseDestination(undefined, "Jane_1")).toEqual({ name: "headshot-jane_1" });
    expect(parseDestination("org/faces", "x")).toEqual({ owner: "org", name: "faces" });
    expect(() => parseDestination("Bad Name", "x")).toThrow(expect.objectContaining({ code: "E_DESTINATION" }));
  });

  it("estimates cost from steps x s/step x the H100 rate", () => {
    const e = estimateCost(1000);
    expect(e.seconds).toBe(1200);
    expect(e.usd).toBeCloseTo(1.83, 2);
    expect(e.lowUsd).toBeLessThan(e.usd);
    expect(e.highUsd).toBeGreaterThan(e.usd);
  });
});

describe("zipDataset", () => {
  it("zips only images and captions, deterministically", async () => {
    const images = join(dir, "set", "images");
    await mkdir(images, { recursive: true });
    const jpg = await sharp({ create: { width: 32, height: 32, channels: 3, background: "#888" } }).jpeg().toBuffer();
    await writeFile(join(images, "02-b.jpg"), jpg);
    await writeFile(join(images, "02-b.txt"), "ohwx person\n");
    await writeFile(join(images, "01-a.jpg"), jpg);
    await writeFile(join(images, "01-a.txt"), "ohwx person, closeup\n");
    await writeFile(join(images, "notes.md"), "not for the trainer");
    await writeFile(join(images, ".DS_Store"), "junk");
    const a = await zipDataset(images, join(dir, "a.zip"));
    const b = await zipDataset(images, join(dir, "b.zip"));
    expect(a.entries).toEqual(["01-a.jpg", "01-a.txt", "02-b.jpg", "02-b.txt"]);
    expect(a).toMatchObject({ images: 2, captions: 2 });
    expect(a.sha256).toBe(b.sha256);
    expect(sha256(await readFile(a.path))).toBe(a.sha256);
  });

  it("refuses an image that carries EXIF/GPS", async () => {
    const images = join(dir, "gps", "images");
    await mkdir(images, { recursive: true });
    const jpg = await sharp({ create: { width: 32, height: 32, channels: 3, background: "#888" } }).jpeg().toBuffer();
    const tagged = await withGps(jpg);
    expect(embeddedMetadata("x.jpg", jpg)).toBeUndefined();
    expect(embeddedMetadata("x.jpg", tagged)).toBe("EXIF");
    await writeFile(join(images, "01-a.jpg"), tagged);
    await expect(zipDataset(images, join(dir, "gps.zip"))).rejects.toMatchObject({ code: "E_DATASET_METADATA" });
  });
});

describe("remote state", () => {
  it("a corrupt record is an error, never a silent new training", async () => {
    const training = join(dir, "corrupt");
    await mkdir(training, { recursive: true });
    expect(await readRemoteState(training)).toBeUndefined();
    await writeFile(join(training, "replicate.json"), "{ half");
    await expect(readRemoteState(training)).rejects.toMatchObject({ code: "E_TRAIN_STATE_CORRUPT" });
  });
});

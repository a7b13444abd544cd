/** Pure parts of gen: reference picking, LoRA source rules, XMP, run summary wording. */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../src/errors.js";
import { normaliseLoraUrl, trainedVersionOf } from "../../../src/generation/lora-source.js";
import { hammingHex, pickReferences, type ReferenceCandidate } from "../../../src/generation/references.js";
import { buildXmp, escapeXml, readXmpFields } from "../../../src/generation/xmp.js";
import { progressLine } from "../../../src/cli/views/gen-summary.js";

const cand = (file: string, extra: Partial<ReferenceCandidate> = {}): ReferenceCandidate => ({
  file,
  path: `/s/${file}`,
  sha256: file,
  verdict: "ok",
  sharpness: 100,
  face: { yaw: 0, pitch: 0 },
  dhash: "0000000000000000",
  ...extra,
});

describe("pickReferences", () => {
  it("skips rejected photos and photos without a face, and picks the sharpest frontal one first", () => {
    const pick = pickReferences(
      [
        cand("blurry.jpg", { sharpness: 10, dhash: "ffff000000000000" }),
        cand("sharp.jpg", { sharpness: 500, dhash: "00000000ffff0000" }),
        cand("turned.jpg", { sharpness: 600, face: { yaw: 40, pitch: 5 }, dhash: "0000ffff00000000" }),
        cand("bad.jpg", { verdict: "reject" }),
        cand("noface.jpg", { face: undefined }),
      ],
      4,
    );
    expect(pick.picked[0]?.file).toBe("sharp.jpg");
    expect(pick.picked.map((p) => p.file)).not.toContain("bad.jpg");
    expect(pick.skipped).toEqual(expect.arrayContaining([{ file: "bad.jpg", reason: "rejected by headshot check" }, { file: "noface.jpg", reason: "no face found" }]));
    expect(pick.picked[0]?.reason).toMatch(/sharpest frontal/);
  });

  it("never sends near-duplicates and respects the model's maximum", () => {
    const images = [
      cand("a.jpg", { sharpness: 300, dhash: "0000000000000000" }),
      cand("a-copy.jpg", { sharpness: 290, dhash: "0000000000000001" }),
      ...["1", "2", "3", "4", "5", "6"].map((n, i) => cand(`v${n}.jpg`, { sharpness: 200 - i, face: { yaw: -20 + i * 8, pitch: 0 }, dhash: "0".repeat(16).split("").map((c, j) => (Math.floor(j / 2) === i + 1 ? "f" : c)).join("") })),
    ];
    const pick = pickReferences(images, 4);
    expect(pick.picked).toHaveLength(4);
    expect(pick.picked.map((p) => p.file)).not.toContain("a-copy.jpg");
    expect(pick.skipped.find((s) => s.file === "a-copy.jpg")?.reason).toMatch(/near-duplicate of a\.jpg/);
    expect(pick.skipped.filter((s) => /at most 4/.test(s.reason)).length).toBeGreaterThan(0);
  });

  it("counts differing bits of hex hashes", () => {
    expect(hammingHex("00", "ff")).toBe(8);
    expect(hammingHex("a0", "a1")).toBe(1);
  });
});

describe("LoRA source rules (replicate/cog-flux predict.py DevLoraPredictor; replicate/flux-fine-tuner predict.py)", () => {
  it.each([
    ["huggingface.co/jane/jane-lora", "huggingface.co/jane/jane-lora"],
    ["https://huggingface.co/jane/r/resolve/main/lora.safetensors", "https://huggingface.co/jane/r/resolve/main/lora.safetensors"],
    ["https://files.example.com/x/jane.safetensors?sig=abc", "https://files.example.com/x/jane.safetensors?sig=abc"],
    ["jane-doe/face-lora", "jane-doe/face-lora"],
    [`jane-doe/face-lora/${"a".repeat(64)}`, `jane-doe/face-lora/${"a".repeat(64)}`],
  ])("accepts %s", (raw, expected) => {
    expect(normaliseLoraUrl(raw)).toBe(expected);
  });

  it.each([
    ["./lora.safetensors", /local path/],
    ["/home/jane/lora.safetensors", /local path/],
    ["http://example.com/lora.safetensors", /https/],
    ["https://example.com/page.html", /neither/],
    ["https://user:pw@example.com/l.safetensors", /credentials/],
  ])("refuses %s", (raw, why) => {
    let error: unknown;
    try {
      normaliseLoraUrl(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(why);
    expect((error as UsageError).details.join("\n")).toMatch(/Hugging Face/);
  });

  it("finds the trained version wherever the identity records it", () => {
    const v = `jane-doe/face:${"b".repeat(64)}`;
    expect(trainedVersionOf({ name: "j", trigger: "t", classWord: "w", replicate: { version: v } })).toBe(v);
    expect(trainedVersionOf({ name: "j", trigger: "t", classWord: "w", trainedVersion: v })).toBe(v);
    expect(trainedVersionOf({ name: "j", trigger: "t", classWord: "w", replicate: { version: "nope" } })).toBeUndefined();
  });
});

describe("XMP labelling", () => {
  it("round-trips the fields and escapes XML", () => {
    const xmp = buildXmp({ prompt: 'a <b> & "c"', seed: 42, model: "m", preset: "p", key: "k-001", placeholder: false, createdAt: "2026-01-01T00:00:00Z", tool: "headshot 0.1.0" });
    expect(xmp).toContain("trainedAlgorithmicMedia");
    expect(readXmpFields(xmp)).toMatchObject({ description: 'a <b> & "c"', seed: "42", model: "m", preset: "p", key: "k-001", placeholder: "False" });
    expect(escapeXml("a\u0001b")).toBe("ab");
  });

  it("labels placeholders as algorithmic media, not a trained model's output", () => {
    const fields = readXmpFields(buildXmp({ prompt: "x", seed: 1, model: "test", preset: "p", key: "k", placeholder: true, createdAt: "t", tool: "h" }));
    expect(fields.DigitalSourceType).toBe("http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia");
    expect(fields.description).toMatch(/^HEADSHOT TEST PLACEHOLDER/);
  });
});

describe("progress line", () => {
  it("shows done/total, failures, ETA and spend", () => {
    expect(progressLine({ type: "progress", done: 12, total: 24, failed: 1, filtered: 0, running: 6, spentUsd: 0.384, etaSeconds: 40 }, false)).toBe(
      "Generating: 12/24 done · 1 failed · 6 running · ETA 40s · $0.38 spent",
    );
    expect(progressLine({ type: "progress", done: 1, total: 2, failed: 0, filtered: 0, running: 1, spentUsd: 0, etaSeconds: null }, true)).toMatch(/placeholders, free/);
  });
});

import { describe, expect, it } from "vitest";
import { encodeMessage, LineSplitter, parseProtocolLine } from "../../../src/generation/local/protocol.js";

describe("parseProtocolLine", () => {
  it.each([
    ['{"type":"loading","message":"x"}', { type: "loading", message: "x" }],
    ['{"type":"ready","model":"flux1-dev","device":"cuda","offload":"model","quantize":"8bit"}', { type: "ready", model: "flux1-dev", device: "cuda", offload: "model", quantize: "8bit" }],
    ['{"type":"progress","id":"a","step":3,"total":28}', { type: "progress", id: "a", step: 3, total: 28 }],
    ['{"type":"image","id":"a","path":"/o/a.png","width":1024,"height":1024,"seed":7}', { type: "image", id: "a", path: "/o/a.png", width: 1024, height: 1024, seed: 7 }],
    ['{"type":"error","id":"a","code":"oom","message":"m"}', { type: "error", id: "a", code: "oom", message: "m" }],
    ['{"type":"error","code":"model_access","message":"m"}', { type: "error", code: "model_access", message: "m" }],
    // A code from a newer script is kept, as internal.
    ['{"type":"error","code":"disk_full","message":"m"}', { type: "error", code: "internal", message: "m" }],
    ['{"type":"bye"}', { type: "bye" }],
  ])("accepts %s", (line, expected) => {
    expect(parseProtocolLine(line)).toEqual({ ok: true, message: expected });
  });

  it.each([
    ["Loading pipeline components...: 100%", /not JSON/],
    ['{"unexpected":true}', /not a protocol message/],
    ['{"type":"progress","id":"a"}', /not a protocol message at step/],
    ['{"type":"ready","model":"m","device":"cuda","offload":"cpu"}', /at offload/],
    ['{"type":"image","id":"a","path":"/x","width":-1,"height":1,"seed":1}', /at width/],
    ['{"type":"progr', /not JSON/],
    ["[1,2]", /not a protocol message/],
  ])("reports garbage %s without throwing", (line, reason) => {
    const parsed = parseProtocolLine(line);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.line).toBe(line);
      expect(parsed.reason).toMatch(reason);
    }
  });
});

describe("LineSplitter", () => {
  it("reassembles lines across chunks, including a multi-byte character split in two", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    const bytes = Buffer.from('{"type":"loading","message":"café"}\r\n\n{"type":"bye"}', "utf8");
    const cut = bytes.indexOf(Buffer.from("é")) + 1; // inside the two-byte é
    splitter.push(bytes.subarray(0, cut));
    splitter.push(bytes.subarray(cut));
    expect(lines).toEqual(['{"type":"loading","message":"café"}']);
    splitter.end();
    expect(lines).toEqual(['{"type":"loading","message":"café"}', '{"type":"bye"}']);
  });
});

describe("LineSplitter with carriage returns (stderr)", () => {
  it("ends a line at a lone \\r, so progress-bar redraws are separate lines, and keeps \\r\\n as one break", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line), { carriageReturns: true });
    splitter.push("\rmodel:  10%|#");
    splitter.push("\rmodel:  50%|#####\r");
    expect(lines).toEqual(["model:  10%|#"]);
    splitter.push("\nTraceback (most recent call last):\r\nRuntimeError: boom\n");
    expect(lines).toEqual(["model:  10%|#", "model:  50%|#####", "Traceback (most recent call last):", "RuntimeError: boom"]);
  });
});

describe("encodeMessage", () => {
  it("writes one JSON object per line", () => {
    const line = encodeMessage({ type: "job", id: "a", prompt: 'say "hi"\nnow', width: 1024, height: 768, steps: 28, guidance: 3.5, seed: 1, lora_scale: 1, out: "/o/a.png" });
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    expect(JSON.parse(line)).toMatchObject({ type: "job", prompt: 'say "hi"\nnow' });
  });
});

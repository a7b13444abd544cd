import { describe, expect, it } from "vitest";
import { parseBackend } from "../../../src/training/trainers.js";

describe("parseBackend", () => {
  it("accepts local and explains replicate and typos", () => {
    expect(parseBackend("local")).toBe("local");
    expect(parseBackend("replicate")).toBe("replicate");
    expect(() => parseBackend("locl")).toThrow(expect.objectContaining({ hint: expect.stringContaining("did you mean --backend local?") }));
  });
});

import { describe, expect, it } from "vitest";
import { ExitCode, HeadshotError, RemoteApiError, UsageError, isHeadshotError } from "../../src/errors.js";

describe("errors", () => {
  it("maps each class to its documented exit code", () => {
    expect(new UsageError("x").exitCode).toBe(ExitCode.usage);
    expect(new RemoteApiError("x", { status: 402 }).exitCode).toBe(ExitCode.remoteApi);
  });
  it("serialises code, hint and status for --json", () => {
    const err = new RemoteApiError("no credit", { code: "E_REPLICATE_402", status: 402, hint: "add credit" });
    expect(err.toJSON()).toMatchObject({ code: "E_REPLICATE_402", status: 402, hint: "add credit", exitCode: 4 });
    expect(isHeadshotError(err)).toBe(true);
    expect(isHeadshotError(new Error("x"))).toBe(false);
    expect(err).toBeInstanceOf(HeadshotError);
  });
});

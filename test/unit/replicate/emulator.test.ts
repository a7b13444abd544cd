/**
 * The emulator's own wire behaviour (https://replicate.com/docs/reference/http), checked with raw HTTP and with
 * the unmodified `replicate` client, so other tests can trust it.
 */
import Replicate from "replicate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRAINER_VERSION, type ReplicateEmulator } from "../../support/replicate-emulator/index.js";
import { withEmulator } from "./helpers.js";

let emu: ReplicateEmulator;
beforeAll(async () => {
  emu = await withEmulator({ latencyMs: 300, pageSize: 3 });
});
afterAll(async () => emu.close());

function api(path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token !== null) headers.set("authorization", `Bearer ${init.token ?? emu.token}`);
  if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
  return fetch(`${emu.baseUrl}${path}`, { ...init, headers });
}

const create = (body: unknown, headers: Record<string, string> = {}) => api("/models/black-forest-labs/flux-dev-lora/predictions", { method: "POST", body: JSON.stringify(body), headers });

describe("auth (2.1, 2.9)", () => {
  it("401 bodies for a missing and a wrong token; the legacy Token scheme works", async () => {
    expect(await (await api("/account", { token: null })).json()).toEqual({ title: "Unauthenticated", detail: "You did not pass an authentication token", status: 401 });
    const wrong = await api("/account", { token: "r8_nope1234567890" });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { detail: string }).detail).toBe("You did not pass a valid authentication token");
    const legacy = await fetch(`${emu.baseUrl}/account`, { headers: { authorization: `Token ${emu.token}` } });
    expect(await legacy.json()).toMatchObject({ type: "user", username: "jane-doe" });
  });
});

describe("predictions (2.2-2.5)", () => {
  it("201 starting, then processing with growing logs, then succeeded with completed_at and metrics", async () => {
    emu.setPredictionDuration(800, 0.2);
    const created = (await (await create({ input: { prompt: "x" } })).json()) as Record<string, unknown>;
    expect(created).toMatchObject({ status: "starting", version: "hidden", output: null, data_removed: false, error: null, logs: "" });
    expect(created.id).toMatch(/^[a-z2-7]{26}$/);
    expect(created.completed_at).toBeUndefined();
    const seen: Array<{ status: string; logs: number }> = [];
    for (let i = 0; i < 200; i++) {
      const p = (await (await api(`/predictions/${String(created.id)}`)).json()) as { status: string; logs: string };
      seen.push({ status: p.status, logs: p.logs.length });
      if (p.status === "succeeded") {
        expect(p).toMatchObject({ completed_at: expect.any(String), metrics: { predict_time: expect.any(Number) } });
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    emu.setPredictionDuration(300, 0.3);
    const processing = seen.filter((s) => s.status === "processing");
    expect(processing.length).toBeGreaterThan(1);
    expect(processing[processing.length - 1]?.logs).toBeGreaterThan(processing[0]?.logs ?? 0);
    expect(seen[seen.length - 1]?.status).toBe("succeeded");
  });

  it("422 for unknown top-level keys, missing input, invalid input, and an unknown version", async () => {
    const extra = await create({ input: { prompt: "x" }, version: "abc" });
    expect(extra.status).toBe(422);
    expect(await extra.json()).toMatchObject({ invalid_fields: [{ type: "additional_property_not_allowed", field: "" }] });
    const invalid = await create({ input: { num_outputs: 0 } });
    expect(await invalid.json()).toMatchObject({
      title: "Input validation failed",
      status: 422,
      invalid_fields: expect.arrayContaining([
        { type: "required", field: "input.prompt", description: "prompt is required" },
        { type: "number_gte", field: "input.num_outputs", description: "Must be greater than or equal to 1" },
      ]),
    });
    const version = await api("/predictions", { method: "POST", body: JSON.stringify({ version: "1".repeat(64), input: {} }) });
    expect(await version.json()).toMatchObject({ title: "Invalid version or not permitted", status: 422 });
    expect((await api("/models/someone/community/predictions", { method: "POST", body: JSON.stringify({ input: {} }) })).status).toBe(404);
  });

  it("Prefer: wait holds the request; an invalid Prefer is refused", async () => {
    const started = Date.now();
    const held = await create({ input: { prompt: "x" } }, { prefer: "wait=5" });
    expect(held.status).toBe(201);
    expect(((await held.json()) as { status: string }).status).toBe("succeeded");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect((await create({ input: { prompt: "x" } }, { prefer: "wait=100" })).status).toBe(400);
    expect((await create({ input: { prompt: "x" } }, { prefer: "wait=0" })).status).toBe(400);
  });

  it("cancel ends a running prediction; cancelling a finished one changes nothing", async () => {
    const p = (await (await create({ input: { prompt: "x" } })).json()) as { id: string };
    const canceled = (await (await api(`/predictions/${p.id}/cancel`, { method: "POST" })).json()) as { status: string };
    expect(canceled.status).toBe("canceled");
    await new Promise((r) => setTimeout(r, 350));
    expect(((await (await api(`/predictions/${p.id}`)).json()) as { status: string }).status).toBe("canceled");
  });

  it("Cancel-After that passes before start aborts the prediction", async () => {
    emu.setPredictionDuration(20_000, 0.5);
    try {
      const p = (await (await create({ input: { prompt: "x" } }, { "cancel-after": "5s" })).json()) as { id: string; deadline: string };
      expect(Date.parse(p.deadline)).toBeGreaterThan(Date.now());
      // The job starts after 10 s, its deadline is at 5 s: shift it into the past instead of waiting.
      const job = emu.state.jobs.get(p.id);
      if (job) job.deadline = Date.now() - 1;
      expect(((await (await api(`/predictions/${p.id}`)).json()) as { status: string }).status).toBe("aborted");
    } finally {
      emu.setPredictionDuration(300, 0.3);
    }
  });

  it("lists newest first with created_after and absolute next links that the client's paginate follows", async () => {
    const since = new Date().toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(((await (await create({ input: { prompt: `page ${i}` } })).json()) as { id: string }).id);
    const first = (await (await api(`/predictions?created_after=${encodeURIComponent(since)}`)).json()) as { next: string; results: Array<{ id: string }> };
    expect(first.results.map((r) => r.id)).toEqual(ids.slice().reverse().slice(0, 3));
    expect(first.next).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/predictions\?/);
    const replicate = new Replicate({ auth: emu.token, baseUrl: emu.baseUrl });
    const pages: string[] = [];
    for await (const page of replicate.paginate(() => replicate.predictions.list())) pages.push(...page.map((p) => p.id));
    expect(pages.length).toBe(emu.state.jobOrder.filter((j) => j.kind === "prediction").length);
  });
});

describe("the unmodified replicate client against the emulator", () => {
  it("run() works end to end and returns plain URL strings for http outputs (1.4)", async () => {
    const replicate = new Replicate({ auth: emu.token, baseUrl: emu.baseUrl });
    const output = (await replicate.run("black-forest-labs/flux-dev-lora", { input: { prompt: "x", num_outputs: 2 }, wait: { mode: "poll", interval: 50 } })) as unknown[];
    expect(output).toHaveLength(2);
    expect(typeof output[0]).toBe("string");
    const image = await fetch(String(output[0]));
    expect(image.headers.get("content-type")).toBe("image/webp");
  });

  it("reproduces the client's sync-wait quirk: run() returns null output when the wait ends in processing", async () => {
    emu.setPredictionDuration(1500, 0.05);
    try {
      const replicate = new Replicate({ auth: emu.token, baseUrl: emu.baseUrl, useFileOutput: false });
      const output = await replicate.run("black-forest-labs/flux-dev-lora", { input: { prompt: "x" }, wait: { mode: "block", timeout: 1 } });
      expect(output).toBeNull();
    } finally {
      emu.setPredictionDuration(300, 0.3);
    }
  });
});

describe("the emulator reproduces the client faults our layer must avoid (replicate/replicate-javascript lib/util.js)", () => {
  it("the bare client re-sends a POST whose socket dropped after the create: a duplicate prediction", async () => {
    emu.faults.dropNextCreates = 1;
    emu.faults.dropMode = "after";
    const replicate = new Replicate({ auth: emu.token, baseUrl: emu.baseUrl });
    await replicate.predictions.create({ model: "black-forest-labs/flux-dev-lora", input: { prompt: "bare client duplicate" } });
    expect(emu.state.jobOrder.filter((j) => j.input.prompt === "bare client duplicate")).toHaveLength(2);
    emu.faults.dropMode = "mixed";
  });

  it("the bare client retries a 429 six times within moments, ignoring Retry-After", async () => {
    emu.clearLog();
    emu.faults.throttleCreates = 1;
    emu.faults.retryAfterSeconds = 3;
    try {
      const replicate = new Replicate({ auth: emu.token, baseUrl: emu.baseUrl });
      await expect(replicate.predictions.create({ model: "black-forest-labs/flux-dev-lora", input: { prompt: "x" } })).rejects.toThrow(/429/);
      const sent = emu.requests.filter((r) => r.method === "POST");
      expect(sent).toHaveLength(6);
      expect((sent[5]?.at ?? 0) - (sent[0]?.at ?? 0)).toBeLessThan(3000);
    } finally {
      emu.faults.throttleCreates = 0;
      emu.faults.retryAfterSeconds = 1;
    }
  });
});

describe("trainings and models (2.6, 2.7)", () => {
  it("models: create (201, then 409 for a duplicate, 403 for another owner), trainer version, trainings list", async () => {
    const body = { owner: "jane-doe", name: "face-x", visibility: "private", hardware: "gpu-t4" };
    expect((await api("/models", { method: "POST", body: JSON.stringify(body) })).status).toBe(201);
    expect((await api("/models", { method: "POST", body: JSON.stringify(body) })).status).toBe(409);
    expect((await api("/models", { method: "POST", body: JSON.stringify({ ...body, owner: "someone-else" }) })).status).toBe(403);
    type Props = { properties: Record<string, unknown>; required?: string[] };
    const trainer = (await (await api("/models/ostris/flux-dev-lora-trainer")).json()) as { latest_version: { id: string; openapi_schema: { components: { schemas: { Input: Props; TrainingInput: Props } } } } };
    expect(trainer.latest_version.id).toBe(TRAINER_VERSION);
    // Served as cog renders a model with predict: and train: the training inputs are TrainingInput.
    const schemas = trainer.latest_version.openapi_schema.components.schemas;
    expect(Object.keys(schemas.TrainingInput.properties)).toEqual(expect.arrayContaining(["input_images", "trigger_word", "steps", "lora_rank", "autocaption"]));
    expect(schemas.Input.required).toEqual(["prompt"]);
    expect(Object.keys(schemas.Input.properties)).not.toContain("input_images");
    const t = await api(`/models/ostris/flux-dev-lora-trainer/versions/${TRAINER_VERSION}/trainings`, { method: "POST", body: JSON.stringify({ destination: "jane-doe/face-x", input: { input_images: "https://example.com/a.zip", steps: 10 } }) });
    expect(t.status).toBe(201);
    const training = (await t.json()) as { id: string; urls: { get: string } };
    expect(training.urls.get).toBe(`${emu.baseUrl}/trainings/${training.id}`);
    // Trainings share the prediction id space: also readable at /predictions/{id}.
    expect((await api(`/predictions/${training.id}`)).status).toBe(200);
    const list = (await (await api("/trainings")).json()) as { results: Array<{ id: string }> };
    expect(list.results[0]?.id).toBe(training.id);
    const devLora = (await (await api("/models/black-forest-labs/flux-dev-lora")).json()) as { latest_version: { id: string } };
    expect((await api(`/models/black-forest-labs/flux-dev-lora/versions/${devLora.latest_version.id}/trainings`, { method: "POST", body: JSON.stringify({ destination: "jane-doe/face-x", input: {} }) })).status).toBe(400);
  });
});

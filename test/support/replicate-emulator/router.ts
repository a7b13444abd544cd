/**
 * Request handling: auth (Bearer or legacy Token; 401 bodies per replicate/replicate-python replicate/exceptions.py), fault
 * injection, routing to the route modules, and the request log the tests assert on.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { json, notFound, readBody, send, type Answer } from "./http.js";
import { createModel, getAccount, getHardware, getModel, getVersion, listVersions } from "./routes-models.js";
import { cancelJob, createPrediction, getJob, listJobs } from "./routes-predictions.js";
import { createTraining } from "./routes-trainings.js";
import { createFile, deleteFile, deliver, getFile, listFiles } from "./routes-files.js";
import type { EmulatorState } from "./state.js";

export interface LoggedRequest {
  seq: number;
  at: number;
  method: string;
  /** Full path, e.g. /v1/predictions/abc. */
  path: string;
  query: Record<string, string>;
  /** The OpenAPI path template this request matched, e.g. /predictions/{prediction_id}; undefined for outputs. */
  route?: string;
  /** Whether an Authorization header came, and whether it held the right token. Never the token. */
  auth: "none" | "valid" | "invalid";
  authScheme?: "Bearer" | "Token" | "other";
  /** Request headers without Authorization. */
  headers: Record<string, string>;
  /** Parsed JSON body; for multipart, `{ multipart: true, bytes }`. */
  body?: unknown;
  status?: number;
  responseContentType?: string;
  /** Parsed JSON answer (undefined for binary outputs and dropped sockets). */
  response?: unknown;
  fault?: "throttled" | "server_error" | "hung" | "dropped_before" | "dropped_after" | "failed_after_commit" | "upload_failed" | "download_failed";
  /** Id of the prediction, training, file or model this request created. */
  createdId?: string;
}

export interface RouteContext {
  state: EmulatorState;
  method: string;
  path: string;
  query: URLSearchParams;
  body: Buffer | undefined;
  json: unknown;
  header(name: string): string | undefined;
  created(id: string): void;
  closed(): boolean;
}

type Handler = (ctx: RouteContext, ...params: string[]) => Answer | Promise<Answer>;
interface Route {
  method: string;
  pattern: RegExp;
  template: string;
  handler: Handler;
}

const SEG = "([^/]+)";
const routes: Route[] = [
  { method: "GET", pattern: /^\/account$/, template: "/account", handler: getAccount },
  { method: "GET", pattern: /^\/hardware$/, template: "/hardware", handler: getHardware },
  { method: "POST", pattern: /^\/models$/, template: "/models", handler: createModel },
  { method: "GET", pattern: new RegExp(`^/models/${SEG}/${SEG}$`), template: "/models/{model_owner}/{model_name}", handler: getModel },
  { method: "GET", pattern: new RegExp(`^/models/${SEG}/${SEG}/versions$`), template: "/models/{model_owner}/{model_name}/versions", handler: listVersions },
  { method: "GET", pattern: new RegExp(`^/models/${SEG}/${SEG}/versions/${SEG}$`), template: "/models/{model_owner}/{model_name}/versions/{version_id}", handler: getVersion },
  {
    method: "POST",
    pattern: new RegExp(`^/models/${SEG}/${SEG}/versions/${SEG}/trainings$`),
    template: "/models/{model_owner}/{model_name}/versions/{version_id}/trainings",
    handler: createTraining,
  },
  {
    method: "POST",
    pattern: new RegExp(`^/models/${SEG}/${SEG}/predictions$`),
    template: "/models/{model_owner}/{model_name}/predictions",
    handler: (ctx, owner, name) => createPrediction(ctx, { owner: owner ?? "", name: name ?? "" }),
  },
  { method: "POST", pattern: /^\/predictions$/, template: "/predictions", handler: (ctx) => createPrediction(ctx, null) },
  { method: "GET", pattern: /^\/predictions$/, template: "/predictions", handler: (ctx) => listJobs(ctx, "prediction") },
  { method: "GET", pattern: new RegExp(`^/predictions/${SEG}$`), template: "/predictions/{prediction_id}", handler: (ctx, id) => getJob(ctx, id ?? "", "prediction") },
  { method: "POST", pattern: new RegExp(`^/predictions/${SEG}/cancel$`), template: "/predictions/{prediction_id}/cancel", handler: (ctx, id) => cancelJob(ctx, id ?? "", "prediction") },
  { method: "GET", pattern: /^\/trainings$/, template: "/trainings", handler: (ctx) => listJobs(ctx, "training") },
  { method: "GET", pattern: new RegExp(`^/trainings/${SEG}$`), template: "/trainings/{training_id}", handler: (ctx, id) => getJob(ctx, id ?? "", "training") },
  { method: "POST", pattern: new RegExp(`^/trainings/${SEG}/cancel$`), template: "/trainings/{training_id}/cancel", handler: (ctx, id) => cancelJob(ctx, id ?? "", "training") },
  { method: "POST", pattern: /^\/files$/, template: "/files", handler: createFile },
  { method: "GET", pattern: /^\/files$/, template: "/files", handler: listFiles },
  { method: "GET", pattern: new RegExp(`^/files/${SEG}$`), template: "/files/{file_id}", handler: (ctx, id) => getFile(ctx, id ?? "") },
  { method: "DELETE", pattern: new RegExp(`^/files/${SEG}$`), template: "/files/{file_id}", handler: (ctx, id) => deleteFile(ctx, id ?? "") },
  { method: "GET", pattern: /^\/webhooks\/default\/secret$/, template: "/webhooks/default/secret", handler: () => json(200, { key: "whsec_ZW11bGF0b3Itd2ViaG9vay1zZWNyZXQ=" }) },
];

function isPaidCreate(method: string, path: string): boolean {
  return method === "POST" && (/\/predictions$/.test(path) || /\/versions\/[^/]+\/trainings$/.test(path));
}

function unauthenticated(valid: boolean): Answer {
  return json(401, {
    title: "Unauthenticated",
    detail: valid ? "You did not pass a valid authentication token" : "You did not pass an authentication token",
    status: 401,
  });
}

function throttled(state: EmulatorState): Answer {
  const { retryAfterSeconds, resetsInSeconds } = state.faults;
  return json(
    429,
    { title: "Request was throttled", detail: `Request was throttled. Your rate limit resets in ~${resetsInSeconds}s.`, status: 429 },
    retryAfterSeconds === null ? {} : { "retry-after": String(retryAfterSeconds) },
  );
}

export async function handle(state: EmulatorState, log: LoggedRequest[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://emulator");
  const method = (req.method ?? "GET").toUpperCase();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (k !== "authorization" && v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
  const authHeader = req.headers.authorization;
  const scheme = authHeader?.match(/^(Bearer|Token)\s+(.*)$/);
  const entry: LoggedRequest = {
    seq: log.length + 1,
    at: Date.now(),
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    auth: !authHeader ? "none" : scheme && scheme[2] === state.token ? "valid" : "invalid",
    ...(authHeader ? { authScheme: scheme ? (scheme[1] as "Bearer" | "Token") : "other" } : {}),
    headers,
  };
  log.push(entry);
  const body = await readBody(req).catch(() => undefined);
  if (body && body.length) {
    const type = headers["content-type"] ?? "";
    if (type.includes("json")) {
      try {
        entry.body = JSON.parse(body.toString("utf8"));
      } catch {
        entry.body = body.toString("utf8").slice(0, 1000);
      }
    } else if (type.startsWith("multipart/")) {
      // Keep the part names (and JSON metadata) so tests can check the request shape.
      const parts: Record<string, unknown> = {};
      try {
        const form = await new Response(new Uint8Array(body), { headers: { "content-type": type } }).formData();
        const entries: Array<[string, FormDataEntryValue]> = [];
        form.forEach((value, name) => entries.push([name, value]));
        for (const [name, value] of entries) {
          if (typeof value === "string") parts[name] = value;
          else if (name === "metadata") parts[name] = JSON.parse(await value.text()) as unknown;
          else parts[name] = { filename: value.name, type: value.type, size: value.size };
        }
      } catch {
        // Unparseable multipart: the route answers 400.
      }
      entry.body = { multipart: true, bytes: body.length, parts };
    }
  }
  const faults = state.faults;
  const finish = (answer: Answer) => {
    entry.status = answer.status;
    entry.responseContentType = answer.raw ? answer.contentType : answer.body !== undefined ? answer.contentType ?? "application/json" : undefined;
    if (!answer.raw && answer.body !== undefined) entry.response = JSON.parse(JSON.stringify(answer.body));
    send(res, answer);
  };
  const drop = (kind: "dropped_before" | "dropped_after") => {
    entry.fault = kind;
    req.socket.destroy();
  };

  // Outputs: public, no auth (replicate/replicate-javascript lib/stream.js).
  if (url.pathname.startsWith("/delivery/")) {
    if (method !== "GET") return finish(notFound());
    if (state.chance(faults.failDownloads)) {
      entry.fault = "download_failed";
      return finish(json(503, { detail: "Service Unavailable" }));
    }
    return finish(await deliver(ctxFor(state, entry, method, url, body, req, res), url.pathname));
  }
  if (!url.pathname.startsWith("/v1/")) return finish(notFound("Not found."));
  const path = url.pathname.slice(3);
  const paid = isPaidCreate(method, path);
  let matched: { route: Route; params: string[] } | undefined;
  for (const route of routes) {
    const m = route.method === method ? path.match(route.pattern) : null;
    if (m) {
      matched = { route, params: m.slice(1).map((s) => decodeURIComponent(s)) };
      break;
    }
  }
  if (matched) entry.route = matched.route.template;
  let dropAfter = false;
  const dropNext = paid && faults.dropNextCreates > 0 && faults.dropNextCreates-- > 0;
  if (dropNext || state.chance(faults.dropSockets)) {
    const after = paid && (faults.dropMode === "after" || (faults.dropMode === "mixed" && state.random() < 0.5));
    if (!after) return drop("dropped_before");
    dropAfter = true;
  }
  if (entry.auth !== "valid") return finish(unauthenticated(entry.auth === "invalid"));
  const throttleNext = paid && faults.throttleNextCreates > 0 && faults.throttleNextCreates-- > 0;
  if (throttleNext || (paid && state.chance(faults.throttleCreates)) || (!paid && state.chance(faults.throttleOthers))) {
    entry.fault = "throttled";
    return finish(throttled(state));
  }
  const failNext = method === "GET" && faults.failNextGets > 0 && faults.failNextGets-- > 0;
  if (failNext || (method === "GET" && state.chance(faults.failGets))) {
    entry.fault = "server_error";
    return finish(json(state.nextServerErrorStatus(), { detail: "Internal server error" }));
  }
  if (method === "POST" && path === "/files" && state.chance(faults.failUploads)) {
    entry.fault = "upload_failed";
    return finish(json(503, { detail: "Service Unavailable" }));
  }
  if (matched) {
    const ctx = ctxFor(state, entry, method, url, body, req, res);
    const answer = await matched.route.handler(ctx, ...matched.params);
    if (dropAfter) return drop("dropped_after");
    if (paid && answer.status < 300 && faults.hangNextCreates > 0) {
      faults.hangNextCreates--;
      entry.fault = "hung";
      return; // Committed, never answered: the socket stays open until the client gives up.
    }
    if (paid && answer.status < 300 && state.chance(faults.failCreatesAfterCommit)) {
      entry.fault = "failed_after_commit";
      return finish(json(500, { detail: "Internal server error" }));
    }
    return finish(answer);
  }
  if (dropAfter) return drop("dropped_after");
  const known = routes.some((r) => path.match(r.pattern));
  return finish(known ? json(405, { detail: `Method "${method}" not allowed.` }) : notFound("Not found."));
}

function ctxFor(state: EmulatorState, entry: LoggedRequest, method: string, url: URL, body: Buffer | undefined, req: IncomingMessage, res: ServerResponse): RouteContext {
  let parsed: unknown;
  return {
    state,
    method,
    path: url.pathname,
    query: url.searchParams,
    body,
    get json() {
      if (parsed === undefined && body?.length) {
        try {
          parsed = JSON.parse(body.toString("utf8"));
        } catch {
          parsed = null;
        }
      }
      return parsed;
    },
    header: (name) => {
      const v = req.headers[name.toLowerCase()];
      return Array.isArray(v) ? v.join(", ") : v;
    },
    created: (id) => {
      entry.createdId = id;
    },
    closed: () => res.destroyed || req.socket.destroyed,
  };
}

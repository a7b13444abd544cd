/** How `identities list` and `identities show` show themselves (a table, a record; --json events and a summary). */
import type { Identity } from "../../identity/registry.js";
import type { Reporter } from "../reporter.js";

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join("  ").trimEnd()).join("\n");
}

export function renderIdentityList(r: Reporter, home: string, listed: { identities: Identity[]; problems: string[] }): void {
  const { identities, problems } = listed;
  for (const problem of problems) r.warn(problem);
  for (const id of identities) {
    r.event("identity", { name: id.name, trigger: id.trigger, recipe: id.recipe, backend: id.backend, lora: id.lora.path, createdAt: id.createdAt });
  }
  if (identities.length === 0) r.info(`no identities yet in ${home}; train one: headshot train ./selfies --name <name> --backend local`);
  else {
    const rows = identities.map((i) => [i.name, i.trigger, i.recipe, i.backend, i.createdAt.slice(0, 10)]);
    r.result(table([["NAME", "TRIGGER", "MODEL", "BACKEND", "CREATED"], ...rows]));
  }
  r.summary({ count: identities.length, problems: problems.length });
}

/** The record; under --json the selfie embedding is summarised (model, size), not dumped. */
export function renderIdentity(r: Reporter, id: Identity): void {
  if (r.json) {
    const { selfies, ...rest } = id;
    const { embedding, ...selfieRest } = selfies;
    r.summary({ identity: { ...rest, selfies: { ...selfieRest, ...(embedding ? { embedding: { model: embedding.model, dims: embedding.dims, count: embedding.count } } : {}) } } });
    return;
  }
  r.result(
    [
      `name:        ${id.name}`,
      `trigger:     ${id.trigger} (class: ${id.classWord})`,
      `base model:  ${id.baseModel} (recipe ${id.recipe}, backend ${id.backend})`,
      `LoRA:        ${id.lora.path}`,
      `sha256:      ${id.lora.sha256} (${id.lora.bytes} bytes)`,
      `training:    ${id.training.steps} steps, rank ${id.training.rank}, lr ${id.training.lr}, resolutions ${id.training.resolutions.join("/")}`,
      `dataset:     ${id.dataset.images} images from ${id.dataset.sourceDir} (hash ${id.dataset.hash.slice(0, 12)})`,
      `selfies:     ${id.selfies.usable} of ${id.selfies.total} usable (${id.selfies.verdict})${id.selfies.selfSimilarity ? `, self-similarity mean ${id.selfies.selfSimilarity.mean.toFixed(3)}` : ""}`,
      `created:     ${id.createdAt}`,
    ].join("\n"),
  );
}

/**
 * Interactivity policy in one module (house style: wrangler's is-interactive.ts).
 * - interactive: stdin and stderr are TTYs and we are not in CI: spinners and prompts allowed.
 * - colour: honours NO_COLOR (any value) and FORCE_COLOR; never in --json.
 */
export interface TtyFacts {
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
  env: Record<string, string | undefined>;
}

/** The usual CI markers; GitHub Actions, GitLab, Buildkite, CircleCI and most others set CI=true. */
export function isCI(env: Record<string, string | undefined>): boolean {
  const ci = env.CI;
  if (ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false") return true;
  return Boolean(env.GITHUB_ACTIONS || env.BUILDKITE || env.GITLAB_CI || env.CONTINUOUS_INTEGRATION);
}

export function isInteractive(facts: TtyFacts): boolean {
  return facts.stdinIsTTY && facts.stderrIsTTY && !isCI(facts.env);
}

export function useColor(facts: TtyFacts & { json: boolean; noColorFlag: boolean }): boolean {
  if (facts.json || facts.noColorFlag) return false;
  if (facts.env.NO_COLOR !== undefined) return false;
  const force = facts.env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force !== "false";
  return facts.stderrIsTTY;
}

/** The options `headshot polish` parses: the polish use case's flags (src/cli/commands/polish.ts). */
export interface PolishCliOptions {
  identity: string;
  backend: "replicate" | "local" | "test";
  strength: number;
  upscale: number;
  upscaler: "auto" | "resize" | "replicate";
  margin: number;
  seed: number;
  preset?: string;
  loraUrl?: string;
  dryRun?: boolean;
}

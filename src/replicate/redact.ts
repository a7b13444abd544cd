/**
 * Keeps the Replicate API token out of every message, log line and file headshot produces.
 *
 * The token is only ever read from REPLICATE_API_TOKEN (src/settings/settings.ts). Anything that
 * turns remote text into a message (error bodies, URLs, logs) goes through `redact` first, which
 * removes the exact token value plus anything shaped like one (`r8_…`, `Bearer …`, `Token …`), in
 * case a server or proxy echoes a different token back.
 */

const TOKEN_SHAPES: ReadonlyArray<RegExp> = [
  /\br8_[A-Za-z0-9_-]{8,}/g,
  /\b(Bearer|Token)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
];

export const REDACTED = "[redacted]";

export type Redactor = (text: string) => string;

/** A redactor for one token value (undefined when no token is configured). */
export function createRedactor(token: string | undefined): Redactor {
  const secret = token && token.length >= 4 ? token : undefined;
  return (text: string) => {
    let out = text;
    if (secret) out = out.split(secret).join(REDACTED);
    for (const shape of TOKEN_SHAPES) {
      out = out.replace(shape, (_match, scheme?: string) =>
        typeof scheme === "string" && /^(bearer|token)$/i.test(scheme) ? `${scheme} ${REDACTED}` : REDACTED,
      );
    }
    return out;
  };
}

/** Redacts a token shape even when the exact token is unknown (messages built outside a client). */
export const redactTokenShapes: Redactor = createRedactor(undefined);

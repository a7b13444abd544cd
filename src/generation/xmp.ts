/**
 * The XMP packet written into every generated image: the IPTC digital source type that labels it
 * as AI-generated (`Iptc4xmpExt:DigitalSourceType` = https://cv.iptc.org/newscodes/digitalsourcetype/
 * trainedAlgorithmicMedia, the same URI C2PA uses), the prompt as `dc:description`, and a small
 * headshot namespace for seed, model and preset. Nothing else: no EXIF, no GPS, no camera fields.
 */

export const DIGITAL_SOURCE_TYPE = {
  /** Made by a model trained on sampled images (every real backend). */
  trainedAlgorithmicMedia: "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
  /** Made by an algorithm without training data: the test backend's placeholders. */
  algorithmicMedia: "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia",
} as const;

/** An identifier only (XMP namespaces need not resolve). */
export const HEADSHOT_XMP_NS = "https://ns.headshot-cli.dev/xmp/1.0/";

export interface XmpFields {
  prompt: string;
  seed: number;
  model: string;
  preset: string;
  key: string;
  placeholder: boolean;
  createdAt: string;
  tool: string;
  /** Test backend previews of a known person: what the preview shows and was drawn from. */
  rehearsal?: string | undefined;
}

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    // XML 1.0 forbids most control characters even escaped.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");
}

export function buildXmp(fields: XmpFields): string {
  const source = fields.placeholder ? DIGITAL_SOURCE_TYPE.algorithmicMedia : DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia;
  const description = fields.rehearsal
    ? `PREVIEW: a selfie, not generated (headshot --backend test rehearsal: ${fields.rehearsal}). Prompt: ${fields.prompt}`
    : fields.placeholder
      ? `HEADSHOT TEST PLACEHOLDER, not a real photo. Prompt: ${fields.prompt}`
      : fields.prompt;
  return [
    `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>`,
    `<x:xmpmeta xmlns:x="adobe:ns:meta/">`,
    `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">`,
    `<rdf:Description rdf:about=""`,
    ` xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"`,
    ` xmlns:dc="http://purl.org/dc/elements/1.1/"`,
    ` xmlns:xmp="http://ns.adobe.com/xap/1.0/"`,
    ` xmlns:headshot="${HEADSHOT_XMP_NS}">`,
    `<Iptc4xmpExt:DigitalSourceType>${source}</Iptc4xmpExt:DigitalSourceType>`,
    `<dc:description><rdf:Alt><rdf:li xml:lang="x-default">${escapeXml(description)}</rdf:li></rdf:Alt></dc:description>`,
    `<xmp:CreatorTool>${escapeXml(fields.tool)}</xmp:CreatorTool>`,
    `<xmp:CreateDate>${escapeXml(fields.createdAt)}</xmp:CreateDate>`,
    `<headshot:seed>${fields.seed}</headshot:seed>`,
    `<headshot:model>${escapeXml(fields.model)}</headshot:model>`,
    `<headshot:preset>${escapeXml(fields.preset)}</headshot:preset>`,
    `<headshot:key>${escapeXml(fields.key)}</headshot:key>`,
    `<headshot:placeholder>${fields.placeholder ? "True" : "False"}</headshot:placeholder>`,
    ...(fields.rehearsal ? [`<headshot:rehearsal>${escapeXml(fields.rehearsal)}</headshot:rehearsal>`] : []),
    `</rdf:Description>`,
    `</rdf:RDF>`,
    `</x:xmpmeta>`,
    `<?xpacket end="w"?>`,
  ].join("\n");
}

/** Reads the fields back (tests, `gen` resume checks): a tolerant regex reader, not a full XMP parser. */
export function readXmpFields(xmp: string): Record<string, string> {
  const out: Record<string, string> = {};
  const source = xmp.match(/<Iptc4xmpExt:DigitalSourceType>([^<]*)</);
  if (source?.[1]) out.DigitalSourceType = source[1];
  const description = xmp.match(/<dc:description>[\s\S]*?<rdf:li[^>]*>([\s\S]*?)<\/rdf:li>/);
  if (description?.[1] !== undefined) out.description = unescapeXml(description[1]);
  for (const match of xmp.matchAll(/<headshot:(\w+)>([^<]*)<\/headshot:\1>/g)) {
    if (match[1]) out[match[1]] = unescapeXml(match[2] ?? "");
  }
  return out;
}

function unescapeXml(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
}

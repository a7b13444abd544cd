/** Local generation (`headshot gen --backend local`): the API the batch engine uses. */
export { openLocalGenerator } from "./local-generator.js";
export type { GenerateOptions, LocalGenerator, LocalGeneratorEvent, LocalGeneratorOptions, LocalImage, LocalJob } from "./local-generator.js";
export { chooseMemoryMode, type MemoryMode } from "./memory-mode.js";
export { queryFreeMiB } from "../../gpu/free-memory.js";
export { LOCAL_MODELS, isLocalModelId, type LocalModelInfo } from "./models.js";
export { LOCAL_MODEL_IDS, type LocalModelId, type OffloadMode, type QuantizeMode } from "./protocol.js";
export { generateScriptPath } from "./script-path.js";

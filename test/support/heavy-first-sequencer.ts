/**
 * Test files in the order that ends a run soonest when two run at once: the known long files
 * first (longest first), then vitest's own order (its cached durations, else file size). A clean
 * clone has no cache, so without this a long end-to-end file can start last and run alone.
 * See https://vitest.dev/config/#sequence-sequencer (BaseSequencer is vitest's default).
 */
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { LONG_FILES } from "./test-tiers.js";

export default class HeavyFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const index = LONG_FILES.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
      return index === -1 ? LONG_FILES.length : index;
    };
    // Array.prototype.sort is stable: files outside the list keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

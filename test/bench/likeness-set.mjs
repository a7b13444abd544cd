// Assembles the real-photo verification set listed in likeness-set.tsv into <out>/<person>/:
//   node test/bench/likeness-set.mjs <out-dir> <mirrors-dir>
// <mirrors-dir> holds bare or normal git clones of the listed repositories, each named
// "<owner>+<name>" (a clone's .git directory or a "repo" folder inside it also works). The photos
// are not committed here: their licences are not stated by those repositories (see LIKENESS.md).
// The two public-domain portraits in test/fixtures/faces join the set as strangers.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

const [out, mirrors] = process.argv.slice(2);
if (!out || !mirrors) {
  process.stderr.write("usage: node test/bench/likeness-set.mjs <out-dir> <mirrors-dir>\n");
  process.exit(2);
}
const here = fileURLToPath(new URL(".", import.meta.url));
const rows = readFileSync(join(here, "likeness-set.tsv"), "utf8").trim().split("\n").slice(1).map((l) => l.split("\t"));
const gitDir = (repo) => {
  const base = join(mirrors, repo.replace("/", "+"));
  return [join(base, "repo"), join(base, ".git"), base].find((d) => existsSync(d));
};
let n = 0;
for (const [person, repo, commit, path] of rows) {
  const dir = gitDir(repo);
  if (!dir) throw new Error(`no clone of ${repo} under ${mirrors}`);
  mkdirSync(join(out, person), { recursive: true });
  // Several people share file names (img1.jpg): the path keeps them apart.
  const name = path.replaceAll("/", "_");
  writeFileSync(join(out, person, name), execFileSync("git", ["--git-dir", dir, "show", `${commit}:${path}`], { maxBuffer: 64 << 20 }));
  n++;
}
const faces = join(here, "..", "fixtures", "faces");
for (const [person, file] of [["collins", "astronaut.png"], ["hopper", "grace_hopper.jpg"]]) {
  mkdirSync(join(out, person), { recursive: true });
  copyFileSync(join(faces, file), join(out, person, basename(file)));
  n++;
}
process.stdout.write(`${n} photos in ${out}\n`);

// Copies the Label Studio editor's prebuilt UMD bundle and CSS from node_modules into
// public/vendor/label-studio/, so the app loads it as a separate static script only on
// pages that label or preview (it is ~10 MB and bundles its own React).
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "node_modules", "@heartexlabs", "label-studio", "build", "static");
const target = join(root, "public", "vendor", "label-studio");
mkdirSync(target, { recursive: true });
for (const [from, to] of [
  ["js/main.js", "main.js"],
  ["js/main.js.LICENSE.txt", "main.js.LICENSE.txt"],
  ["css/main.css", "main.css"],
]) {
  copyFileSync(join(source, from), join(target, to));
}
console.log(`label-studio editor copied to ${target}`);

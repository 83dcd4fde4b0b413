// Debian's Chromium for the browser tests, the end-to-end suite and the browser benchmark:
// $CHROMIUM_BIN, else /usr/bin/chromium, else `chromium` on PATH; null when none is executable.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export function findChromium() {
  const candidates = [process.env.CHROMIUM_BIN, "/usr/bin/chromium"];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) if (dir) candidates.push(join(dir, "chromium"));
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {}
  }
  return null;
}

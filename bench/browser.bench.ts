// The benchmark page's entry (bundled by bench/browser-run.ts and opened in Chromium): runs
// bench/browser-suite.ts and hands the result to the runner through `window.__bench`.
import { runSuite, type SuiteResult } from "./browser-suite";

declare global {
  interface Window {
    __bench: { done: boolean; result?: SuiteResult; error?: string };
    __benchLog?: (line: string) => void;
  }
}

const quick = new URL(location.href).searchParams.has("quick");
const out = document.getElementById("log")!;
window.__bench = { done: false };
const log = (line: string) => {
  out.textContent += line + "\n";
  window.__benchLog?.(line);
};
log(`${navigator.userAgent}${quick ? " (quick)" : ""}`);
// let the page settle (first paint, the runner's hooks) before timing anything
setTimeout(() => {
  runSuite({ quick, log }).then(
    (result) => {
      window.__bench = { done: true, result };
      log("done");
    },
    (e: unknown) => {
      window.__bench = { done: true, error: `${(e as Error).name}: ${(e as Error).message}\n${(e as Error).stack ?? ""}` };
      log(`failed: ${(e as Error).message}`);
    },
  );
}, 200);

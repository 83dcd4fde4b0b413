// The `bilevel-rl` command line run as a real process from source (the code tsup bundles
// into dist/cli.js), or in this process through `main`; shared by the CLI test files.
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/program";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const ENTRY = ["--import", "./scripts/register-wasm.mjs", "--import", "tsx", "src/cli/main.ts"];

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Children still running: a test file's afterAll kills them. */
export const children = new Set<ChildProcess>();

/** Run `bilevel-rl args…`; `onStdout` sees the output as it arrives (with the child, to signal it). */
export function cli(args: string[], onStdout?: (text: string, child: ChildProcess) => void, options: { detached?: boolean } = {}): Promise<Exit> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...ENTRY, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"], detached: options.detached });
    children.add(child);
    let stdout = "", stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      onStdout?.(stdout, child);
    });
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", fail);
    child.on("close", (code, signal) => {
      children.delete(child);
      done({ code, signal, stdout, stderr });
    });
  });
}

/** `bilevel-rl args…` in this process (for commands that start no worker), output captured. */
export async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "", stderr = "";
  const code = await main(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), isTTY: false });
  return { code, stdout, stderr };
}

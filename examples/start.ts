// `npm start`: the default experiment, the GridWorld goal-position problem (5 × 5 slippery
// grid, the upper level places a soft goal so that the agent visits the target cell) solved
// by M-SoBiRL and by exact hypergradient descent, through the command line's `compare`
// (the same as `bilevel-rl compare examples/experiments/gridgoal-msobirl.json
// --algorithms mSoBiRL,exactDescent --out results/start`). Prints the comparison table and
// where the plots went.
import { join } from "node:path";
import { main, type CliIO } from "../src/cli/program";

const EXPERIMENT = "examples/experiments/gridgoal-msobirl.json";
const OUT = process.argv[2] ?? join("results", "start");

let captured = "";
const io: CliIO = { out: (t) => void (captured += t), err: (t) => void process.stderr.write(t), isTTY: false };

console.log(`bilevel-rl: GridWorld goal position (${EXPERIMENT}), M-SoBiRL against exact hypergradient descent…\n`);
const code = await main(["compare", EXPERIMENT, "--algorithms", "mSoBiRL,exactDescent", "--out", OUT, "--no-progress"], io);
if (code !== 0) {
  process.stdout.write(captured);
  process.exit(code);
}

// the Markdown table `compare` printed, and the plot files it listed
const table = captured.split("\n").filter((l) => l.startsWith("|")).join("\n");
const listed = captured
  .split("\n")
  .map((l) => /^\s+(\S+\.svg)\s+(.*)$/.exec(l))
  .filter((m): m is RegExpExecArray => m !== null && !m[1].endsWith("convergence.svg"));
const width = Math.max(...listed.map((m) => m[1].length));
const plots = listed.map((m) => `  ${m[1].padEnd(width)}  ${m[2]}`);

console.log(table);
console.log(`\nφ(x) is minus the discounted number of visits to the target (lower is better).`);
console.log(`\nPlots (open them in a browser):\n${plots.join("\n")}`);
console.log(`\nEverything else (result.json, history.csv per algorithm, compare.md, compare.csv) is in ${OUT}/.`);
console.log(`More: npx bilevel-rl --help (after npm run build), docs/cli.md, docs/experiment-format.md.`);

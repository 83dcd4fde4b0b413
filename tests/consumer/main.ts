// The consumer page: no configuration, no alias — `import … from "bilevel-rl"` is resolved by
// Vite through the package's "exports" (the built dist/index.js, wasm inlined), as in any app.
import { solveAll } from "./solve";

const out = document.getElementById("out")!;
solveAll().then(
  (result) => {
    out.textContent = JSON.stringify(result, null, 2);
    out.dataset.state = "done";
  },
  (error: unknown) => {
    out.textContent = `${(error as Error).name}: ${(error as Error).message}`;
    out.dataset.state = "failed";
  },
);

// The core-only page (core.html): what an app that needs only the lower level ships.
import { solveRing } from "./core";

const out = document.getElementById("out")!;
solveRing().then(
  (result) => {
    out.textContent = JSON.stringify(result, null, 2);
    out.dataset.state = "done";
  },
  (error: unknown) => {
    out.textContent = `${(error as Error).name}: ${(error as Error).message}`;
    out.dataset.state = "failed";
  },
);

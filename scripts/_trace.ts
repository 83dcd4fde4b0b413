import { init, e1, mSoBiRL, gridGoal, shaping } from "../src/index";
import { phi } from "../src/bilevel/hypergradient";
await init();
const seed = Number(process.argv[2] ?? 1);
const which = process.argv[3] ?? "e1";
const inst = which === "e1" ? e1({ seed }) : which === "shaping" ? shaping({ seed }) : gridGoal({ seed });
const opts = JSON.parse(process.argv[4] ?? "{}");
let st = mSoBiRL.init(inst.problem, { x0: inst.x0, ...opts });
for (let k = 0; k < 200; k++) {
  st = mSoBiRL.step(inst.problem, st);
  if (k % 10 === 0 || k < 10) console.log(k, "beta", st.beta.toExponential(2), "f", st.last!.f.toFixed(4), "h", st.last!.hnorm.toExponential(2), "phi", phi(inst.problem, Float64Array.from(st.x)).value.toFixed(4), "res", st.last!.lowerResidual.toExponential(1));
}

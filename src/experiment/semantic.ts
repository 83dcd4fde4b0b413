// Semantic checks of experiment documents, after the schema: what depends on the sizes
// (P rows, Φ's shape, x_0's length, …), the rules of probability tables and the fit of
// algorithm and problem. The rules themselves are the library's (src/validate.ts: finite
// entries, distributions, policies, stochastic CSR rows); a broken rule is reported in the
// experiment's words, at the JSON pointer of the first bad entry or row.
import { DomainError, ShapeError } from "../errors";
import * as check from "../validate";
import { pointerToken } from "./json";
import { got, list, type S } from "./messages";
import { algorithmInfo, problemInfo } from "./registry";
import type { ExperimentIssue } from "./types";

const SUM_TOL = check.SUM_TOL;

class Issues {
  readonly list: ExperimentIssue[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
}

export const isObj = (v: unknown): v is S => typeof v === "object" && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** The library's error when `rule` is broken, else undefined. */
function broken(rule: () => unknown): ShapeError | DomainError | undefined {
  try {
    rule();
    return undefined;
  } catch (e) {
    if (e instanceof ShapeError || e instanceof DomainError) return e;
    throw e;
  }
}

/**
 * An array of `len` finite numbers at `path` (the library's finiteNumber, or nonNegative for
 * `probabilities`, on each entry); reports the first bad entry.
 */
function numbers(v: unknown, path: string, len: number, shape: string, out: Issues, probabilities = false): v is number[] {
  const what = `${len} number${len === 1 ? "" : "s"} (${shape})`;
  if (!Array.isArray(v)) { out.add(path, `expected an array of ${what}, got ${got(v)}`); return false; }
  if (v.length !== len) { out.add(path, `expected ${what}, got an array of length ${v.length}`); return false; }
  const entry = probabilities ? check.nonNegative : check.finiteNumber;
  for (let i = 0; i < len; i++) {
    if (!broken(() => entry(path, v[i]))) continue;
    out.add(`${path}/${i}`, isNum(v[i]) ? `expected a non-negative number (a probability), got ${v[i]}` : `expected a number, got ${got(v[i])}`);
    return false;
  }
  return true;
}

/** ρ: S probabilities summing to 1 (the library's distribution). */
function distribution(v: unknown, path: string, S: number, out: Issues): void {
  if (!numbers(v, path, S, "S", out, true)) return;
  const e = broken(() => check.distribution(path, v, S)); // entries are fine: only the sum can be off
  if (e) out.add(path, `expected a distribution summing to 1 (within ${SUM_TOL}), got entries summing to ${e.value}`);
}

/** π: S·A probabilities, each state's row summing to 1 (the library's policy). */
function policyTable(v: unknown, path: string, S: number, A: number, out: Issues): void {
  if (!numbers(v, path, S * A, "S·A, index s·A + a", out, true)) return;
  const e = broken(() => check.policy(path, v, S, A)); // entries are fine: only a row sum can be off
  if (!e) return;
  const s = (e.where as { s: number }).s;
  out.add(`${path}/${s * A}`, `expected the row of state ${s} (entries ${s * A}..${s * A + A - 1}) to sum to 1 within ${SUM_TOL}, got ${e.value}`);
}

/** A row P(·|s, a) of non-negative entries: a distribution over next states (the library's rule). */
function rowSum(row: number[], path: string, label: string, out: Issues): boolean {
  const e = broken(() => check.distribution(path, row, row.length));
  if (!e) return true;
  out.add(path, `expected a probability row${label} summing to 1 (within ${SUM_TOL}), got a row summing to ${e.value}`);
  return false;
}

function checkMdp(mdp: S, path: string, out: Issues): void {
  const S = mdp.S as number, A = mdp.A as number;
  if (mdp.rho !== undefined) distribution(mdp.rho, `${path}/rho`, S, out);
  if (mdp.terminal !== undefined) {
    const e = broken(() => check.terminal(`${path}/terminal`, mdp.terminal, S));
    if (e) out.add(`${path}/terminal`, `expected S = ${S} booleans or distinct state indices in [0, ${S}), got ${e.message.replace(/^[^:]*: /, "")}`);
  }
  const hasP = mdp.P !== undefined, hasCsr = mdp.csr !== undefined;
  if (hasP === hasCsr) { out.add(path, `expected exactly one of 'P' (dense) or 'csr' (sparse) transitions, got ${hasP ? "both" : "neither"}`); return; }
  if (hasP) {
    const P = mdp.P as unknown[];
    const p = `${path}/P`;
    if (P.length > 0 && Array.isArray(P[0])) {
      if (P.length !== S) { out.add(p, `expected S = ${S} arrays P[s] (nested P[s][a][s']), got an array of length ${P.length}`); return; }
      for (let s = 0; s < S; s++) {
        const Ps = P[s];
        if (!Array.isArray(Ps) || Ps.length !== A) { out.add(`${p}/${s}`, `expected A = ${A} rows P[s][a], got ${got(Ps)}`); return; }
        for (let a = 0; a < A; a++) {
          if (!numbers(Ps[a], `${p}/${s}/${a}`, S, `S, the distribution P(·|s=${s}, a=${a})`, out, true)) return;
          if (!rowSum(Ps[a] as number[], `${p}/${s}/${a}`, "", out)) return;
        }
      }
      return;
    }
    if (!Array.isArray(P) || P.length !== S * A * S) {
      out.add(p, `expected S·A·S = ${S * A * S} numbers (flat) or ${S} × ${A} × ${S} nested arrays, got ${got(P)}`);
      return;
    }
    if (!numbers(P, p, S * A * S, "S·A·S", out, true)) return;
    for (let i = 0; i < S * A; i++) {
      if (!rowSum(P.slice(i * S, i * S + S) as number[], `${p}/${i * S}`, ` (s=${Math.floor(i / A)}, a=${i % A}; entries ${i * S}..${i * S + S - 1})`, out)) return;
    }
    return;
  }
  checkCsr(mdp.csr as { indptr: number[]; indices: number[]; probs: number[] }, `${path}/csr`, S, A, out);
}

/** Sparse P (the library's csrStructure and csrRow), each row checked whole before the next. */
function checkCsr({ indptr, indices, probs }: { indptr: number[]; indices: number[]; probs: number[] }, p: string, S: number, A: number, out: Issues): void {
  const shape = broken(() => check.csrStructure(indptr, indices, probs, S, A));
  if (shape) {
    const nnz = indptr[S * A];
    if (shape.argument === "indptr" && shape instanceof ShapeError) out.add(`${p}/indptr`, `expected S·A + 1 = ${S * A + 1} entries, got an array of length ${indptr.length}`);
    else if (shape.argument === "indptr" && shape.where === 0) out.add(`${p}/indptr/0`, `expected 0, got ${indptr[0]}`);
    else if (shape.argument === "indptr") {
      const i = shape.where as number;
      out.add(`${p}/indptr/${i}`, `expected a non-decreasing sequence, got ${indptr[i]} after ${indptr[i - 1]}`);
    } else out.add(`${p}/${shape.argument}`, `expected indptr[S·A] = ${nnz} entries, got an array of length ${shape.argument === "indices" ? indices.length : probs.length}`);
    return;
  }
  const seen = new Int32Array(S).fill(-1);
  for (let i = 0; i < S * A; i++) {
    const row = `(s=${Math.floor(i / A)}, a=${i % A})`;
    let sum = 0;
    const e = broken(() => (sum = check.csrRow(indptr, indices, probs, S, A, i, seen)));
    if (e) {
      if (e.argument === "probs") {
        const k = e.where as number;
        out.add(`${p}/probs/${k}`, `expected a non-negative number (a probability), got ${probs[k]}`);
      } else if (typeof e.where === "number") out.add(`${p}/indices/${e.where}`, `expected a state in [0, ${S}), got ${indices[e.where]}`);
      else {
        const k = (e.where as { k: number }).k;
        out.add(`${p}/indices/${k}`, `expected distinct next states within row ${row}, got ${indices[k]} twice`);
      }
      return;
    }
    if (Math.abs(sum - 1) > SUM_TOL) {
      out.add(`${p}/probs/${indptr[i]}`, `expected the probabilities of row ${row} (entries ${indptr[i]}..${indptr[i + 1] - 1}) to sum to 1 within ${SUM_TOL}, got ${sum}`);
      return;
    }
  }
}

/** n of a reward model on an S × A MDP, after checking its arrays; undefined when broken. */
function checkReward(reward: S, path: string, S: number, A: number, out: Issues): number | undefined {
  const SA = S * A;
  const [kind, spec] = Object.entries(reward)[0] as [string, S];
  const p = `${path}/${kind}`;
  if (spec.offset !== undefined) numbers(spec.offset, `${p}/offset`, SA, "S·A", out);
  if (kind === "table") return SA;
  if (kind === "state") return S;
  const n = spec.n as number;
  const Phi = spec.Phi;
  const pp = `${p}/Phi`;
  if (Array.isArray(Phi)) {
    if (Phi.length > 0 && Array.isArray(Phi[0])) {
      if (Phi.length !== SA) { out.add(pp, `expected S·A = ${SA} rows of n = ${n} numbers, got an array of length ${Phi.length}`); return undefined; }
      for (let i = 0; i < SA; i++) if (!numbers(Phi[i], `${pp}/${i}`, n, `n, row s·A + a = ${i}`, out)) return undefined;
      return n;
    }
    if (Phi.length !== SA * n) { out.add(pp, `expected S·A·n = ${SA}·${n} = ${SA * n} numbers (row-major) or ${SA} rows of ${n}, got an array of length ${Phi.length}`); return undefined; }
    return numbers(Phi, pp, SA * n, "S·A·n", out) ? n : undefined;
  }
  if (!isObj(Phi) || !Array.isArray(Phi.indptr) || !Array.isArray(Phi.indices) || !Array.isArray(Phi.values)) {
    out.add(pp, `expected an array (dense Φ) or a CSR object { indptr, indices, values }, got ${got(Phi)}`);
    return undefined;
  }
  const { indptr, indices, values } = Phi as { indptr: unknown[]; indices: unknown[]; values: unknown[] };
  if (indptr.length !== SA + 1) { out.add(`${pp}/indptr`, `expected S·A + 1 = ${SA + 1} entries, got an array of length ${indptr.length}`); return undefined; }
  for (let i = 0; i <= SA; i++) {
    const v = indptr[i];
    if (!Number.isInteger(v) || (v as number) < 0 || (i > 0 && (v as number) < (indptr[i - 1] as number)) || (i === 0 && v !== 0)) {
      out.add(`${pp}/indptr/${i}`, `expected a non-decreasing sequence of integers from 0, got ${got(v)}`);
      return undefined;
    }
  }
  const nnz = indptr[SA] as number;
  if (indices.length !== nnz) { out.add(`${pp}/indices`, `expected indptr[S·A] = ${nnz} entries, got an array of length ${indices.length}`); return undefined; }
  for (let k = 0; k < nnz; k++) if (!Number.isInteger(indices[k]) || (indices[k] as number) < 0 || (indices[k] as number) >= n) { out.add(`${pp}/indices/${k}`, `expected a column in [0, n) = [0, ${n}), got ${got(indices[k])}`); return undefined; }
  return numbers(values, `${pp}/values`, nnz, "nnz", out) ? n : undefined;
}

function checkUpper(upper: S, path: string, S: number, A: number, out: Issues, rOptional: boolean, n?: number): void {
  const SA = S * A;
  const [kind, spec] = Object.entries(upper)[0] as [string, S];
  const p = `${path}/${kind}`;
  if (kind === "policyLinear") numbers(spec.c, `${p}/c`, SA, "S·A", out);
  if (kind === "upperReturn") {
    if (spec.reward !== undefined) {
      if (spec.r !== undefined) out.add(`${p}/reward`, "expected either r (a fixed upper reward) or reward (an x-dependent one), got both");
      const nU = checkReward(spec.reward as S, `${p}/reward`, S, A, out);
      if (nU !== undefined && n !== undefined && nU !== n) out.add(`${p}/reward`, `expected an upper reward of the lower reward's dimension n = ${n}, got n = ${nU}`);
    } else if (spec.r !== undefined) numbers(spec.r, `${p}/r`, SA, "S·A", out);
    else if (!rOptional) out.add(`${p}/r`, `missing (required); expected S·A = ${SA} numbers (or an x-dependent reward; only the 'gridworld' and 'garnet' generators supply a default)`);
    if (spec.rho !== undefined) distribution(spec.rho, `${p}/rho`, S, out);
  }
  if (kind === "preference") numbers(spec.rTrue, `${p}/rTrue`, SA, "S·A", out);
}

/** Rows of the grid a grid-based built-in will use, when they follow from the parameters. */
function gridRows(builtin: string, params: S): string[] | undefined {
  if (Array.isArray(params.map)) return params.map as string[];
  if (builtin === "gridworld") return Array.from({ length: (params.height as number) ?? 5 }, () => ".".repeat((params.width as number) ?? 5));
  const size = (params.size as number) ?? (builtin === "shaping" ? 6 : 5);
  return Array.from({ length: size }, () => ".".repeat(size));
}

function checkBuiltinParams(builtin: string, params: S, out: Issues, base = "/problem"): void {
  const p = `${base}/params`;
  if (builtin === "gridworld" || builtin === "gridGoal" || builtin === "shaping" || builtin === "gridIncentive") {
    const allowed = builtin === "shaping" || builtin === "gridIncentive" ? "#.ST" : "#.GST";
    if (Array.isArray(params.map)) {
      const m = params.map as string[];
      if (m.length === 0) { out.add(`${p}/map`, "expected at least one row, got an empty array"); return; }
      for (let r = 0; r < m.length; r++) {
        if (m[r].length === 0 || m[r].length !== m[0].length) { out.add(`${p}/map/${r}`, `expected a row of ${m[0].length || "≥ 1"} characters (the first row's length), got ${got(m[r])}`); return; }
        for (const ch of m[r]) if (!allowed.includes(ch)) { out.add(`${p}/map/${r}`, `expected only ${list(allowed.split(""))} cells${builtin === "shaping" ? " (the goal is the 'goal' parameter)" : ""}, got ${JSON.stringify(ch)} in ${got(m[r])}`); return; }
      }
      if (!m.some((row) => /[.GST]/.test(row))) { out.add(`${p}/map`, "expected at least one non-wall cell, got only walls"); return; }
    }
    const rows = gridRows(builtin, params)!;
    for (const name of ["start", "target", "goal", "lureCell"]) {
      const c = params[name];
      if (!Array.isArray(c)) continue;
      const [r, col] = c as number[];
      if (r >= rows.length || col >= rows[0].length) out.add(`${p}/${name}`, `expected a cell on the ${rows.length} × ${rows[0].length} grid, got [${r}, ${col}]`);
      else if (rows[r][col] === "#") out.add(`${p}/${name}`, `expected a free cell, got the wall [${r}, ${col}]`);
    }
    if (builtin === "gridIncentive" && Array.isArray(params.lureCell) && Array.isArray(params.goal) && params.lureCell[0] === params.goal[0] && params.lureCell[1] === params.goal[1]) {
      out.add(`${p}/lureCell`, `expected a cell other than the goal, got [${params.goal.join(", ")}]`);
    }
    if (builtin === "shaping" && Array.isArray(params.start) && Array.isArray(params.goal) && params.start[0] === params.goal[0] && params.start[1] === params.goal[1]) {
      out.add(`${p}/goal`, `expected a cell other than the start, got [${params.goal.join(", ")}]`);
    }
  }
  if (builtin === "happyText") {
    const vocab = params.vocabulary as string[] | undefined;
    const words = vocab ?? (problemInfo("happyText")!.params.find((q) => q.name === "vocabulary")!.default as string[]);
    if (vocab) {
      if (vocab.length < 2) out.add(`${p}/vocabulary`, `expected at least 2 tokens (words and the end token, last), got an array of length ${vocab.length}`);
      const seen = new Set<string>();
      vocab.forEach((w, i) => {
        if (w.length === 0) out.add(`${p}/vocabulary/${i}`, `expected a non-empty token, got ""`);
        if (seen.has(w)) out.add(`${p}/vocabulary/${i}`, `expected distinct tokens, got ${JSON.stringify(w)} twice`);
        seen.add(w);
      });
    }
    const usable = words.slice(0, -1);
    if (isObj(params.lexicon)) for (const w of Object.keys(params.lexicon)) if (!usable.includes(w)) out.add(`${p}/lexicon/${pointerToken(w)}`, `expected a word of the vocabulary (not the end token), got ${JSON.stringify(w)}`);
    if (Array.isArray(params.negators)) (params.negators as string[]).forEach((w, i) => { if (!usable.includes(w)) out.add(`${p}/negators/${i}`, `expected a word of the vocabulary (not the end token), got ${JSON.stringify(w)}`); });
  }
  if (builtin === "garnet" && isNum(params.branching) && params.branching > ((params.S as number) ?? 10)) {
    out.add(`${p}/branching`, `expected an integer ≤ S = ${(params.S as number) ?? 10}, got ${params.branching}`);
  }
}

/** The sizes S, A, n of a built-in or custom problem when they follow from the document without building anything. */
function knownSizes(prob: S): { S: number; A: number; n?: number } | undefined {
  if (isObj(prob.mdp)) {
    const { S, A } = prob.mdp as { S: number; A: number };
    const [kind, spec] = Object.entries(prob.reward as S)[0] as [string, S];
    return { S, A, n: kind === "table" ? S * A : kind === "state" ? S : (spec.n as number) };
  }
  return undefined;
}

/** A built-in or custom problem at `base`: its issues, whether it has a trajectory objective, its τ and known sizes. */
function checkSingle(prob: S, base: string, out: Issues): { trajectory: boolean; tau: number; sizes?: { S: number; A: number; n?: number }; gamma?: number } {
  let trajectory = false;
  let tau: number;
  if (typeof prob.builtin === "string") {
    const info = problemInfo(prob.builtin)!;
    const params = (prob.params ?? {}) as S;
    checkBuiltinParams(info.name, params, out, base);
    if (info.kind === "bilevel") {
      for (const k of ["reward", "upper", "tau"]) {
        if (prob[k] !== undefined) out.add(`${base}/${k}`, `not used by '${info.name}', which defines its own ${k === "tau" ? "τ (set params.tau)" : k}; only the 'gridworld' and 'garnet' generators take ${list(["reward", "upper", "tau"], "and")}`);
      }
      trajectory = info.trajectory;
      tau = (params.tau as number | undefined) ?? (info.params.find((q) => q.name === "tau")?.default as number);
    } else {
      // their reward and upper arrays need S and A: checked when the problem is built
      trajectory = isObj(prob.upper) && Object.keys(prob.upper)[0] === "preference";
      tau = (prob.tau as number | undefined) ?? 0.1;
    }
    return { trajectory, tau };
  }
  const mdp = prob.mdp as S;
  checkMdp(mdp, `${base}/mdp`, out);
  const S = mdp.S as number, A = mdp.A as number;
  const n = checkReward(prob.reward as S, `${base}/reward`, S, A, out);
  checkUpper(prob.upper as S, `${base}/upper`, S, A, out, false, n);
  trajectory = Object.keys(prob.upper as S)[0] === "preference";
  tau = prob.tau as number;
  return { trajectory, tau, sizes: knownSizes(prob), gamma: mdp.gamma as number };
}

/**
 * A contextual problem (docs/math.md#contextual): each context at /problem/contexts/i/problem,
 * the weights (≥ 0 by the schema) summing to 1, and τ, γ, A and n equal where the document
 * shows them (built-in contexts are compared when built).
 */
function checkContextual(prob: S, out: Issues): { trajectory: boolean; tau: number; sizes?: { S: number; A: number; n?: number } } {
  const contexts = prob.contexts as S[];
  const parts = contexts.map((c, i) => checkSingle(c.problem as S, `/problem/contexts/${i}/problem`, out));
  const weights = contexts.map((c) => c.weight as number);
  let sum = 0;
  for (const w of weights) sum += w;
  if (Math.abs(sum - 1) > SUM_TOL) out.add("/problem/contexts", `expected weights summing to 1 (within ${SUM_TOL}), got ${weights.join(" + ")} = ${sum}`);
  parts.forEach((p, i) => {
    if (i === 0) return;
    const at = `/problem/contexts/${i}/problem`;
    if (p.tau !== parts[0].tau) out.add(typeof (contexts[i].problem as S).builtin === "string" ? `${at}/params/tau` : `${at}/tau`, `expected context 0's τ = ${parts[0].tau} (the contexts share the lower level's temperature), got ${p.tau}`);
    if (p.gamma !== undefined && parts[0].gamma !== undefined && p.gamma !== parts[0].gamma) out.add(`${at}/mdp/gamma`, `expected context 0's γ = ${parts[0].gamma}, got ${p.gamma}`);
    if (p.sizes && parts[0].sizes) {
      if (p.sizes.A !== parts[0].sizes.A) out.add(`${at}/mdp/A`, `expected context 0's A = ${parts[0].sizes.A} actions, got ${p.sizes.A}`);
      else if (p.sizes.n !== undefined && parts[0].sizes.n !== undefined && p.sizes.n !== parts[0].sizes.n) out.add(`${at}/reward`, `expected a reward on x of context 0's dimension n = ${parts[0].sizes.n}, got n = ${p.sizes.n}`);
    }
  });
  const trajectory = parts.every((p) => p.trajectory);
  const tau = parts.some((p) => p.tau === 0) ? 0 : parts[0].tau;
  let sizes: { S: number; A: number; n?: number } | undefined;
  if (parts.every((p) => p.sizes)) sizes = { S: parts.reduce((s, p) => s + p.sizes!.S, 0), A: parts[0].sizes!.A, n: parts[0].sizes!.n };
  return { trajectory, tau, sizes };
}

/**
 * What the schema cannot check: shapes that depend on S, A and n, the rules of probability
 * tables and grids, and which algorithms fit which problems. `doc` has passed the schema.
 */
export function semantic(doc: S): ExperimentIssue[] {
  const out = new Issues();
  const prob = doc.problem as S;
  const alg = doc.algorithm as S;
  const ainfo = algorithmInfo(alg.name as string)!;
  const { trajectory, tau, sizes } = Array.isArray(prob.contexts) ? checkContextual(prob, out) : checkSingle(prob, "/problem", out);
  if (ainfo.needsSoft && tau === 0) out.add(Array.isArray(prob.contexts) ? "/problem/contexts" : "/problem/tau", `expected a positive number: ${ainfo.name} needs an entropy temperature τ > 0, got 0`);
  if (ainfo.needsTrajectory && !trajectory) {
    const what = typeof prob.builtin === "string" ? `the '${prob.builtin}' problem has none` : Array.isArray(prob.contexts) ? "not every context has one" : "this problem's upper objective is not 'preference'";
    out.add("/algorithm/name", `${ainfo.name} needs a trajectory (preference) objective: use upper 'preference' or the 'rlhf' or 'happyText' problems; ${what}`);
  }
  // sizes known without building: x0 and the algorithm's array parameters
  if (sizes) {
    const { S, A, n } = sizes;
    if (Array.isArray(doc.x0) && n !== undefined) numbers(doc.x0, "/x0", n, "n", out);
    for (const spec of ainfo.params) {
      const v = alg[spec.name];
      if (v === undefined || !spec.length) continue;
      const len = spec.length === "S" ? S : spec.length === "S·A" ? S * A : spec.length === "S·(A−1)" ? S * (A - 1) : n;
      if (len === undefined) continue;
      if (spec.policy) policyTable(v, `/algorithm/${spec.name}`, S, A, out);
      else numbers(v, `/algorithm/${spec.name}`, len, spec.length, out);
    }
  }
  return out.list;
}

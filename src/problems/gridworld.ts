// MDP generators: slippery gridworlds (docs/math.md#gridworld) and GARNET random MDPs.
// Both return a TabularMDP plus the helpers a caller needs to read or plot it.
//
// Gridworld conventions:
//   cells (row, col), row 0 at the top, cell index row·width + col;
//   states are the non-wall cells in reading order (walls are not states, so they can
//   never be entered: a move into a wall or off the grid leaves the agent in place);
//   actions U (row − 1), D (row + 1), L (col − 1), R (col + 1) and, with actions = 5, stay;
//   with probability 1 − slip the intended move happens, with probability slip the agent
//   moves in one of the four directions U, D, L, R chosen uniformly (blocked → stays);
//   'G' cells are absorbing: every action self-loops with probability 1.
import { DomainError, ShapeError } from "../errors";
import { TabularMDP } from "../mdp";
import type { Backend } from "../wasm/module";
import { Rng } from "../util/random";
import * as check from "../validate";
import { log } from "../util/math";

/** Action names, in action-index order. */
export const GRID_ACTIONS = ["U", "D", "L", "R", "stay"] as const;
/** A gridworld action name. */
export type GridAction = (typeof GRID_ACTIONS)[number];

/** Row and column offsets of U, D, L, R, stay. */
const MOVES: ReadonlyArray<readonly [number, number]> = [[-1, 0], [1, 0], [0, -1], [0, 1], [0, 0]];

/** Options of `gridworld`. */
export interface GridworldOptions {
  /**
   * The grid, one string per row, all of the same length: '#' wall, '.' free,
   * 'G' absorbing goal, 'S' start (a free cell that ρ starts from), 'T' terminal (the
   * episode ends after the step taken there, collecting that step's reward and nothing
   * after: docs/math.md#terminal-states). Overrides width/height.
   */
  map?: readonly string[];
  /** Width of an open grid (no walls) when `map` is omitted (default 5). */
  width?: number;
  /** Height of an open grid when `map` is omitted (default 5). */
  height?: number;
  /** Probability of moving to a uniformly random neighbour instead (default 0.1). */
  slip?: number;
  /** 5 = U, D, L, R, stay (default); 4 = U, D, L, R. */
  actions?: 4 | 5;
  /** Discount γ (default 0.9). */
  gamma?: number;
  /** CSR transitions (default true; gridworld rows have at most 5 non-zeros). */
  sparse?: boolean;
  /** Initial distribution over states; default uniform over the 'S' cells, else the first free cell. */
  rho?: ArrayLike<number>;
  /** Start cell [row, col]: ρ is the point mass there (instead of `rho`). */
  start?: readonly [number, number];
  backend?: Backend;
}

/** A gridworld MDP with its map and the cell ↔ state correspondence. */
export interface GridWorld {
  mdp: TabularMDP;
  /** Number of states (non-wall cells). */
  S: number;
  /** Number of actions (4 or 5). */
  A: number;
  width: number;
  height: number;
  /** The action names, index a ↔ actions[a]. */
  actions: readonly GridAction[];
  /** The grid as used (one string per row). */
  map: readonly string[];
  /** Cell index row·width + col → state index, −1 for walls (length width·height). */
  cellToState: Int32Array;
  /** State index → cell index row·width + col (length S). */
  stateToCell: Int32Array;
  /** The state at (row, col); throws for walls and cells off the grid. */
  state(row: number, col: number): number;
  /** The cell of state s. */
  cell(s: number): { row: number; col: number };
  /** States of the absorbing 'G' cells. */
  goals: Int32Array;
  /** States of the 'S' cells. */
  starts: Int32Array;
  /** States of the terminal 'T' cells (the MDP's `terminal` mask marks the same states). */
  terminals: Int32Array;
}

/** A slippery gridworld MDP with helpers mapping cells ↔ states. */
export function gridworld(options: GridworldOptions = {}): GridWorld {
  if (typeof options !== "object" || options === null) throw new ShapeError("options", "must be an object", options);
  const map = parseMap(options);
  const height = map.length, width = map[0].length;
  const slip = probability("slip", options.slip ?? 0.1);
  const A = actionCount(options.actions);
  const gamma = check.discount(options.gamma ?? 0.9);
  const sparse = flag("sparse", options.sparse, true);

  const cellToState = new Int32Array(width * height).fill(-1);
  const cells: number[] = [], goals: number[] = [], starts: number[] = [], terminals: number[] = [];
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const ch = map[row][col];
      if (ch === "#") continue;
      const s = cells.length;
      cellToState[row * width + col] = s;
      cells.push(row * width + col);
      if (ch === "G") goals.push(s);
      if (ch === "S") starts.push(s);
      if (ch === "T") terminals.push(s);
    }
  }
  const S = cells.length;
  if (S === 0) throw new DomainError("map", "must contain at least one non-wall cell", map.join("/"));
  const stateToCell = Int32Array.from(cells);

  // destination of the move m from state s (itself when blocked)
  const dest = (s: number, m: number): number => {
    const c = stateToCell[s];
    const row = Math.floor(c / width) + MOVES[m][0], col = (c % width) + MOVES[m][1];
    if (row < 0 || row >= height || col < 0 || col >= width) return s;
    const t = cellToState[row * width + col];
    return t < 0 ? s : t;
  };
  // goals and terminal cells keep their state (a terminal cell's row is never continued:
  // the kernels treat it as zero; it is stored stochastic so that P validates)
  const isGoal = new Uint8Array(S);
  for (const g of goals) isGoal[g] = 1;
  for (const t of terminals) isGoal[t] = 1;

  // CSR rows with merged, sorted destinations
  const indptr = new Int32Array(S * A + 1);
  const indices: number[] = [], probs: number[] = [];
  const row = new Map<number, number>();
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      row.clear();
      const add = (t: number, p: number) => { if (p > 0) row.set(t, (row.get(t) ?? 0) + p); };
      if (isGoal[s]) add(s, 1);
      else {
        add(dest(s, a), 1 - slip);
        for (let m = 0; m < 4; m++) add(dest(s, m), slip / 4);
      }
      for (const t of [...row.keys()].sort((u, v) => u - v)) {
        indices.push(t);
        probs.push(row.get(t)!);
      }
      indptr[s * A + a + 1] = indices.length;
    }
  }

  let rho: Float64Array;
  if (options.start !== undefined) {
    if (options.rho !== undefined) throw new DomainError("start", "cannot be combined with rho", "start and rho");
    rho = new Float64Array(S);
    rho[cellAt("start", options.start, map, cellToState)] = 1;
  } else if (options.rho !== undefined) rho = check.distribution("rho", options.rho, S).slice();
  else {
    rho = new Float64Array(S);
    if (starts.length > 0) for (const s of starts) rho[s] = 1 / starts.length;
    else rho[0] = 1;
  }

  const common = { S, A, gamma, rho, backend: options.backend, terminal: terminals.length > 0 ? Int32Array.from(terminals) : undefined };
  const csr = { indptr, indices: Int32Array.from(indices), probs: Float64Array.from(probs) };
  const mdp = sparse ? TabularMDP.sparse({ ...common, ...csr }) : TabularMDP.dense({ ...common, P: csrToDense(csr, S, A) });

  return {
    mdp,
    S,
    A,
    width,
    height,
    actions: GRID_ACTIONS.slice(0, A),
    map,
    cellToState,
    stateToCell,
    state(r: number, c: number): number {
      return cellAt("cell", [r, c], map, cellToState);
    },
    cell(s: number) {
      if (!Number.isInteger(s) || s < 0 || s >= S) throw new DomainError("s", `must be a state index in [0, ${S})`, s);
      const c = stateToCell[s];
      return { row: Math.floor(c / width), col: c % width };
    },
    goals: Int32Array.from(goals),
    starts: Int32Array.from(starts),
    terminals: Int32Array.from(terminals),
  };
}

/** The state of a cell [row, col]; a DomainError names `arg` for walls and cells off the grid. @internal */
export function cellAt(arg: string, cell: unknown, map: readonly string[], cellToState: Int32Array): number {
  if (!Array.isArray(cell) || cell.length !== 2) throw new ShapeError(arg, "must be a cell [row, col]", cell);
  const height = map.length, width = map[0].length;
  const [r, c] = cell as [unknown, unknown];
  if (typeof r !== "number" || !Number.isInteger(r) || r < 0 || r >= height) throw new DomainError(arg, `row must be an integer in [0, ${height})`, r);
  if (typeof c !== "number" || !Number.isInteger(c) || c < 0 || c >= width) throw new DomainError(arg, `column must be an integer in [0, ${width})`, c);
  const s = cellToState[r * width + c];
  if (s < 0) throw new DomainError(arg, "must not be a wall", map[r][c], { row: r, col: c });
  return s;
}

/** The map of a gridworld's options, checked (rectangular, cells '#', '.', 'G', 'S', 'T'), or an open width × height grid. @internal */
export function parseMap(options: GridworldOptions): string[] {
  if (options.map !== undefined) {
    const m = options.map;
    if (!Array.isArray(m) || m.length === 0) throw new ShapeError("map", "must be a non-empty array of strings (one per row)", m);
    const width = typeof m[0] === "string" ? m[0].length : -1;
    if (width <= 0) throw new ShapeError("map", "rows must be non-empty strings", m[0], 0);
    for (let r = 0; r < m.length; r++) {
      if (typeof m[r] !== "string" || m[r].length !== width) throw new ShapeError("map", `every row must be a string of length ${width} (the first row's)`, m[r], r);
      for (let c = 0; c < width; c++) {
        if (!"#.GST".includes(m[r][c])) throw new DomainError("map", "cells must be '#' (wall), '.' (free), 'G' (absorbing goal), 'S' (start) or 'T' (terminal)", m[r][c], { row: r, col: c });
      }
    }
    if (options.width !== undefined && options.width !== width) throw new ShapeError("width", `disagrees with the map's width ${width}`, options.width);
    if (options.height !== undefined && options.height !== m.length) throw new ShapeError("height", `disagrees with the map's height ${m.length}`, options.height);
    return m.slice();
  }
  const width = options.width === undefined ? 5 : check.positiveInt("width", options.width);
  const height = options.height === undefined ? 5 : check.positiveInt("height", options.height);
  return Array.from({ length: height }, () => ".".repeat(width));
}

/** A probability in [0, 1]. @internal */
export function probability(arg: string, v: unknown): number {
  const p = check.finiteNumber(arg, v);
  if (p < 0 || p > 1) throw new DomainError(arg, "must lie in [0, 1]", v);
  return p;
}

/** A strictly positive finite number. @internal */
export function positive(arg: string, v: unknown): number {
  const x = check.finiteNumber(arg, v);
  if (!(x > 0)) throw new DomainError(arg, "must be > 0", v);
  return x;
}

/** An optional boolean. @internal */
export const flag = check.flag;

/** The gridworld action count, 4 or 5 (default 5). @internal */
export function actionCount(v: unknown): 4 | 5 {
  if (v === undefined) return 5;
  if (v !== 4 && v !== 5) throw new DomainError("actions", "must be 4 (U, D, L, R) or 5 (U, D, L, R, stay)", v);
  return v;
}

function csrToDense(csr: { indptr: Int32Array; indices: Int32Array; probs: Float64Array }, S: number, A: number): Float64Array {
  const P = new Float64Array(S * A * S);
  for (let i = 0; i < S * A; i++) for (let k = csr.indptr[i]; k < csr.indptr[i + 1]; k++) P[i * S + csr.indices[k]] = csr.probs[k];
  return P;
}

/** A positive Exponential(1) draw (Gamma(1)); normalised draws give Dirichlet(1) rows. @internal */
export function exponential(rng: Rng): number {
  let e = 0;
  while (!(e > 0)) e = -log(1 - rng.uniform());
  return e;
}

/** Fill out[0..k) with a Dirichlet(1, …, 1) draw (every entry > 0). @internal */
export function dirichletRow(rng: Rng, out: Float64Array | number[], k: number, offset = 0): void {
  let z = 0;
  for (let j = 0; j < k; j++) z += (out[offset + j] = exponential(rng));
  for (let j = 0; j < k; j++) out[offset + j] /= z;
}

/** Options of `garnet`. */
export interface GarnetOptions {
  /** Number of states (default 10). */
  S?: number;
  /** Number of actions (default 4). */
  A?: number;
  /** Next states per (s, a), drawn without replacement (default min(3, S)). */
  branching?: number;
  /** Discount γ (default 0.9). */
  gamma?: number;
  /** CSR transitions (default true). */
  sparse?: boolean;
  /** Seed of the instance (default 0). */
  seed?: number;
  /** Initial distribution (default uniform). */
  rho?: ArrayLike<number>;
  backend?: Backend;
}

/** A random Garnet MDP and a reward table drawn with it. */
export interface Garnet {
  mdp: TabularMDP;
  S: number;
  A: number;
  branching: number;
  /** A reward table r(s, a) ~ N(0, 1) (length S·A), drawn after P, for convenience. */
  reward: Float64Array;
}

/**
 * GARNET random MDP (Archibald et al. 1995): each row (s, a) moves to `branching`
 * distinct next states chosen uniformly without replacement, with Dirichlet(1, …, 1)
 * probabilities (every one of them > 0, so each row has exactly `branching` non-zeros).
 */
export function garnet(options: GarnetOptions = {}): Garnet {
  if (typeof options !== "object" || options === null) throw new ShapeError("options", "must be an object", options);
  const S = options.S === undefined ? 10 : check.positiveInt("S", options.S);
  const A = options.A === undefined ? 4 : check.positiveInt("A", options.A);
  const branching = options.branching === undefined ? Math.min(3, S) : check.positiveInt("branching", options.branching);
  if (branching > S) throw new DomainError("branching", `must be ≤ S = ${S}`, branching);
  const gamma = check.discount(options.gamma ?? 0.9);
  const sparse = flag("sparse", options.sparse, true);
  const rng = new Rng(options.seed === undefined ? 0 : check.seed(options.seed));
  const nnz = S * A * branching;
  const indptr = new Int32Array(S * A + 1), indices = new Int32Array(nnz), probs = new Float64Array(nnz);
  const perm = new Int32Array(S), w = new Float64Array(branching);
  for (let i = 0; i < S * A; i++) {
    for (let j = 0; j < S; j++) perm[j] = j;
    for (let j = 0; j < branching; j++) { // partial Fisher–Yates
      const t = rng.int(j, S);
      const tmp = perm[j]; perm[j] = perm[t]; perm[t] = tmp;
    }
    dirichletRow(rng, w, branching);
    const next = Array.from(perm.subarray(0, branching)).map((s, j) => [s, w[j]] as const).sort((p, q) => p[0] - q[0]);
    const o = i * branching;
    for (let j = 0; j < branching; j++) { indices[o + j] = next[j][0]; probs[o + j] = next[j][1]; }
    indptr[i + 1] = o + branching;
  }
  const reward = rng.normals(S * A);
  const common = { S, A, gamma, rho: options.rho, backend: options.backend };
  const csr = { indptr, indices, probs };
  const mdp = sparse ? TabularMDP.sparse({ ...common, ...csr }) : TabularMDP.dense({ ...common, P: csrToDense(csr, S, A) });
  return { mdp, S, A, branching, reward };
}

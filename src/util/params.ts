// Parameter specifications: name, type, default, range and one line of description. Each
// algorithm module declares its own (its `init` reads the defaults from there); the
// experiment registry, its JSON schema, the normaliser, the command line's `list` and the
// demo page's forms are derived from them. Plain data and small helpers only.
import { DomainError } from "../errors";

/**
 * The type of a parameter:
 *   'number' · 'integer' · 'boolean' · 'string' (with `enum`) · 'number[]' · 'string[]'
 *   · 'cell' ([row, col], integers ≥ 0) · 'record' (an object { word: number }).
 */
export type ParamType = "number" | "integer" | "boolean" | "string" | "number[]" | "string[]" | "cell" | "record";

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One parameter of an algorithm or a registry entry: type, default and constraints. */
export interface ParamSpec {
  name: string;
  type: ParamType;
  description: string;
  /** A constant default: the normalised experiment holds it when the parameter is omitted. */
  default?: Json;
  /** A default computed from other values (e.g. "1/τ"): left out of the normalised experiment. */
  defaultText?: string;
  /**
   * The value the algorithm's paper (or its documented reference settings, /docs/math.md#defaults)
   * uses, when it differs from `default`: `preset: 'paper'` selects it for every parameter not given.
   */
  paper?: Json;
  /** Allowed values ('string' and 'integer' parameters). */
  enum?: readonly (string | number)[];
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  exclusiveMaximum?: number;
  /** Array parameters whose length depends on the problem: checked once the sizes are known. */
  length?: "S" | "S·A" | "S·(A−1)" | "n";
  /** The array is a policy table: each row π(·|s) a distribution. */
  policy?: boolean;
  /** The array is a distribution (entries ≥ 0 summing to 1). */
  distribution?: boolean;
  /** The experiment's `seed` is used when this parameter is omitted. */
  seeded?: boolean;
}

/** An algorithm's specification, as the registry lists it (x0 is the experiment's, not an algorithm parameter). */
export interface AlgorithmInfo {
  name: string;
  source: string;
  description: string;
  /** Needs an entropy temperature τ > 0. */
  needsSoft: boolean;
  /** Needs a trajectory objective (problem.upper.preference, rlhf, happyText). */
  needsTrajectory: boolean;
  /** The parameter a divergence message names as the likely cause (the upper step, e.g. 'beta'). */
  stepParam?: string;
  params: ParamSpec[];
}

// ---------------------------------------------------------------------------------------
// constructors: the name and the default keep their literal types, so that `byName(params)`
// hands init a typed default (e.g. `P.beta.default: 0.1`)

type Extra = Omit<Partial<ParamSpec>, "name" | "type" | "description">;
type Spec<N extends string, T extends ParamType, E> = { name: N; type: T; description: string } & E;

export const num = <const N extends string, const E extends Extra = {}>(name: N, description: string, extra: E = {} as E): Spec<N, "number", E> => ({ name, type: "number", description, ...extra });
export const int = <const N extends string, const E extends Extra = {}>(name: N, description: string, extra: E = {} as E): Spec<N, "integer", E> => ({ name, type: "integer", description, ...extra });
export const bool = <const N extends string, const E extends Extra = {}>(name: N, description: string, extra: E = {} as E): Spec<N, "boolean", E> => ({ name, type: "boolean", description, ...extra });
export const str = <const N extends string, const V extends readonly string[], const E extends Extra & { default?: V[number] } = {}>(
  name: N,
  description: string,
  values: V,
  extra: E = {} as E,
): Spec<N, "string", { enum: V } & E> => ({ name, type: "string", description, enum: values, ...extra });
export const arr = <const N extends string, const E extends Extra = {}>(name: N, description: string, extra: E = {} as E): Spec<N, "number[]", E> => ({ name, type: "number[]", description, ...extra });

export const positive = { exclusiveMinimum: 0 } as const;
export const count = { minimum: 1 } as const;
export const nonNeg = { minimum: 0 } as const;
export const unit = { minimum: 0, maximum: 1 } as const;
export const discount = { minimum: 0, exclusiveMaximum: 1 } as const;

export const seedParam = (what: string) => int("seed", `Seed of ${what} (default: the experiment's seed).`, { minimum: 0, seeded: true });
export const LINEAR = ["lu", "krylov", "bicgstab", "richardson"] as const;
export const SOLVERS = ["value-iteration", "policy-iteration"] as const;
export const solverParam = str("solver", "Lower-level solver.", SOLVERS, { default: "value-iteration" });

/** The preset of an algorithm's defaults: the library's adaptive defaults, or the paper's settings. */
export const PRESETS = ["default", "paper"] as const;
/** The preset of an algorithm's defaults. */
export type Preset = (typeof PRESETS)[number];
export const presetParam = str("preset", "'default': the library's defaults (steps that adapt to the problem); 'paper': the paper's settings for every parameter not given.", PRESETS, { default: "default" });

/**
 * An option's value: the one given, else (preset 'paper') the spec's `paper` value, else its
 * default (undefined when the default is computed: the caller computes it).
 */
export function presetValue(spec: { paper?: Json; default?: Json }, given: unknown, preset: Preset): unknown {
  if (given !== undefined) return given;
  if (preset === "paper" && spec.paper !== undefined) return spec.paper;
  return spec.default;
}

/** A string option under a preset, checked against its spec's `enum`. */
export function presetOneOf<const V extends readonly string[]>(spec: { name: string; enum: V; default?: V[number]; paper?: Json }, given: unknown, preset: Preset): V[number] {
  return oneOf(spec, presetValue(spec, given, preset));
}

/** The preset option, checked. */
export function parsePreset(v: unknown): Preset {
  return oneOf(presetParam, v);
}

/** The specs of a list by name, with their literal types. */
export function byName<const P extends readonly ParamSpec[]>(params: P): { readonly [S in P[number] as S["name"]]: S } {
  return Object.fromEntries(params.map((p) => [p.name, p])) as never;
}

/** An algorithm's description with its name as a literal type. */
export function describe<const N extends string>(info: Omit<AlgorithmInfo, "params"> & { name: N; params: readonly ParamSpec[] }): AlgorithmInfo & { name: N } {
  return { ...info, params: [...info.params] };
}

/**
 * A string option checked against its spec's `enum`: `value`, else `fallback`, else the
 * spec's default. Throws a DomainError "must be 'a', 'b' or 'c'" naming the parameter.
 */
export function oneOf<const V extends readonly string[]>(spec: { name: string; enum: V; default?: V[number] }, value: unknown, fallback?: V[number]): V[number] {
  const v = value ?? fallback ?? spec.default;
  if (!spec.enum.includes(v as string)) throw new DomainError(spec.name, `must be ${alternatives(spec.enum)}`, v);
  return v as V[number];
}

/** 'a', 'b' or 'c'. */
export function alternatives(values: readonly string[]): string {
  const q = values.map((v) => `'${v}'`);
  return q.length < 2 ? q.join("") : `${q.slice(0, -1).join(", ")} or ${q[q.length - 1]}`;
}

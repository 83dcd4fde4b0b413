// The library's algorithms, in the order the registry, the command line's `list` and the
// demo page show them. Each carries its parameter specification (`info`): the experiment
// layer derives its registry, schema, types and runner from this one list.
import { exactDescent } from "./exactDescent";
import { mSoBiRL } from "./mSoBiRL";
import { soBiRL } from "./soBiRL";
import { pbrl } from "./pbrl";
import { parl } from "./parl";
import { actorCritic } from "./actorCritic";
import { phiSigma } from "./phiSigma";
import { alternating } from "./alternating";

/** The library's algorithms, each with its parameter specification (`info`), in the registry's order. */
export const ALGORITHM_LIST = [exactDescent, mSoBiRL, soBiRL, pbrl, parl, actorCritic, phiSigma, alternating] as const;

/** The name of one of the library's algorithms. */
export type AlgorithmName = (typeof ALGORITHM_LIST)[number]["name"];

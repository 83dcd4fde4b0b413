/** The ajv options the experiment schema's validator is compiled with. */
export declare const AJV_OPTIONS: { allErrors: boolean; verbose: boolean; strict: boolean; strictTypes: boolean; strictRequired: boolean };
/** The precompiled validator module for `schema` (ES module source) and its type declarations. */
export declare function validatorModule(schema: object): { js: string; dts: string };

export declare function wasmModuleSource(bytes: Uint8Array): string;
export declare function cleanId(id: string): string;

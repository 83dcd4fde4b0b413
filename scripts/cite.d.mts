export declare const root: string;
export declare const OLD: string;
export declare const SECTIONS: Record<string, string>;
export declare const PHRASES: ReadonlyArray<readonly [string, string]>;
export declare const SCAN: readonly string[];
export declare const OWN_SECTIONS: ReadonlySet<string>;
export declare const SELF: ReadonlySet<string>;
export declare const MARKDOWN_LINKS: ReadonlySet<string>;
export declare function citationFiles(): string[];
export declare function anchorFor(
  sec: string,
  context: { file: string; before: string; after: string; line: string; above: string },
): string | undefined;
export declare function rewrite(text: string, file: string): { text: string; unmapped: string[] };

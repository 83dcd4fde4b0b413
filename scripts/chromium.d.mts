/** Debian's Chromium: $CHROMIUM_BIN, /usr/bin/chromium, or `chromium` on PATH; null when missing. */
export declare function findChromium(): string | null;

// The few web-standard globals core/ may use: every runtime it targets (browsers, workers, Node,
// Electron) has them, but the ES library typings do not declare them.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
declare function structuredClone<T>(value: T): T;
declare function btoa(data: string): string;
declare function atob(data: string): string;
declare const performance: { now(): number };

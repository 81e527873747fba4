export const ISOLATION_HEADERS: Record<string, string>;
export const CONTENT_TYPES: Record<string, string>;

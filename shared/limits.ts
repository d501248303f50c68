/**
 * Limits both sides enforce, in one place: the server's schemas refuse past
 * them (`shared/api-schemas.ts`), the extension refuses before sending so the
 * developer hears about it without a round trip.
 */

/** A search query or a question, in characters; `limits.max_query_chars` may set a lower bound per server. */
export const MAX_QUERY_CHARS = 4000;

/** Text for "find similar", in characters. */
export const MAX_SIMILAR_TEXT_CHARS = 20_000;

/** A library path, in characters. */
export const MAX_PATH_CHARS = 1024;

/** Results per search or answer. */
export const MAX_RESULTS = 50;

/** The content of one upload, in characters: the schema's ceiling above any `library.max_file_bytes`. */
export const MAX_UPLOAD_CONTENT_CHARS = 10 * 1024 * 1024;

/**
 * The default of the server's `library.max_file_bytes` (server/config/schema.ts):
 * the extension refuses larger files before uploading, since a server on the
 * default would refuse them anyway.
 */
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

// dynalite ships no types; this is the part of its API the tests use.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** Serve HTTPS with a self-signed certificate instead of HTTP. */
    ssl?: boolean;
    /** How long a table stays CREATING (default 500). */
    createTableMs?: number;
    /** How long a table stays DELETING (default 500). */
    deleteTableMs?: number;
    /** How long a table stays UPDATING (default 500). */
    updateTableMs?: number;
    maxItemSizeKb?: number;
    /** LevelDB directory; in memory when omitted. */
    path?: string;
    verbose?: boolean;
    debug?: boolean;
  }

  /** Creates a DynamoDB-compatible HTTP server; call `listen` on it. */
  function dynalite(options?: DynaliteOptions): Server;

  export = dynalite;
}

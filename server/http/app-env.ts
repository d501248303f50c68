/** Who is calling: set by the auth middleware, read by routes (contributor, conversations, limits). */
export interface Developer {
  name: string;
  admin: boolean;
}

/** Hono's typed per-request variables, shared by every route module. */
export interface AppEnv {
  Variables: {
    developer: Developer;
    requestId: string;
  };
}

/** The identity used when no tokens exist yet (a single developer on loopback). */
export const LOCAL_DEVELOPER: Developer = { name: 'local', admin: true };

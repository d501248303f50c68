# AI Library API server. Built by `docker compose build api` (docker-compose.yml),
# or alone: docker build -t ai-library .
#
# Two stages: the build stage has the compilers, the dev dependencies (esbuild)
# and the TypeScript sources; the runtime stage only the bundle, the production
# node_modules and the default configs. Both stages must use the same Node major:
# better-sqlite3 is a native module compiled for the Node ABI of the build stage.

# ---- build ---------------------------------------------------------------
FROM node:24-bookworm-slim AS build

# better-sqlite3 downloads a prebuilt binary when it can; otherwise node-gyp
# compiles it, which needs python3, make and g++. npm_config_nodedir points
# node-gyp at the headers shipped in this image, so a compile downloads nothing.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local

WORKDIR /app

# Dependencies first: this layer is reused until package*.json change.
# Install scripts run only for the packages package.json's allowScripts trusts
# (better-sqlite3: its native binary; esbuild: its platform binary); the others
# (keytar, @vscode/vsce-sign: packaging tools for the VS Code extension) stay off.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 esbuild

# scripts/build.mjs bundles server/main.ts, server/cli.ts and bench/bench.ts
# (which import shared/) into dist/server; dependencies stay external.
COPY tsconfig.json ./
COPY scripts ./scripts
COPY shared ./shared
COPY server ./server
COPY bench ./bench
RUN node scripts/build.mjs server \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime -------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime
# Debian's base already has what the server shells out to: tar (backup, restore).

ENV NODE_ENV=production \
    API_HOST=0.0.0.0 \
    API_PORT=8000

WORKDIR /app

COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist/server ./dist/server
# Defaults; docker-compose.yml mounts the host's configs/ over them.
COPY --chown=node:node configs ./configs

# The folders the server writes (LIBRARY_PATH, SESSIONS_PATH, DATA_DIR and
# backup.dir defaults), owned by the unprivileged user. A named volume on
# /app/data starts as a copy of this folder, ownership included; bind mounts
# keep the host's ownership (docs/operations.md: chown them to uid 1000).
# /app itself too: `restore` sets the old content aside as /app/<folder>.before-restore.
RUN mkdir -p /app/library /app/sessions /app/data /app/backups \
 && chown node:node /app /app/library /app/sessions /app/data /app/backups

# The official image's unprivileged user (uid 1000).
USER node

EXPOSE 8000

# Node's own fetch: the slim image has no curl. /health answers 503 while the
# vector store or the embedder cannot serve searches: the container turns
# unhealthy (a signal; plain Docker does not restart it for that).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.API_PORT || 8000) + '/health', { signal: AbortSignal.timeout(8000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "dist/server/main.js"]

# syntax=docker/dockerfile:1
# One image for every MyMONIT process; the command selects it, e.g.
#   node dist/services/api/main.js | dist/services/ingest/main.js | dist/services/audit-shipper/main.js
#   node dist/scripts/db-migrate.js [--seed demo] | node dist/adapters/cli.js <kind> …
ARG NODE_IMAGE=node:20-bookworm-slim

# Production dependencies only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

# Every dependency, and the build (swc → dist/, with the SQL migrations and seeds beside it).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json .swcrc ./
COPY services services
COPY adapters adapters
COPY db db
COPY scripts scripts
COPY bench bench
RUN npm run -s build

# The Firebase Auth emulator for the compose "dev" profile (firebase-tools is a dev dependency).
FROM build AS dev
ENV CI=true
# The emulator writes its debug log to the working directory: one the node user owns.
WORKDIR /home/node
USER node
EXPOSE 9099

# What runs in production: no compiler, no dev dependencies, files owned by root, run as `node`.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
USER node
CMD ["node", "--max-semi-space-size=32", "--heap-growing-percent=200", "dist/services/api/main.js"]

# kandji-datadog worker image (the same image runs the CLI, the codec server and the simulators).
#   docker build -t kandji-datadog .
#   docker run --env-file .env kandji-datadog                              # the worker
#   docker run --env-file .env kandji-datadog node dist/src/processes/cli/main.js start   # start the streams (idempotent)
# glibc Debian slim: @temporalio/core-bridge ships no musl (Alpine) build. Node 22 LTS (Node 20 is end-of-life).

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY workflows ./workflows
COPY activities ./activities
COPY src ./src
COPY simulators ./simulators
COPY scripts ./scripts
# Compiles to dist/ and bundles the workflow code once (dist/workflow-bundle.js): no webpack at worker start.
RUN npm run build

FROM node:22-bookworm-slim AS runtime
# ca-certificates: TLS to Temporal Cloud, Kandji and Datadog; tini: PID 1 that forwards SIGTERM and reaps zombies.
# Versions follow Debian bookworm's security updates, hence unpinned.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY deploy/docker/entrypoint.sh /usr/local/bin/kandji-datadog-entrypoint
# The image's own `node` user, by number so Kubernetes' runAsNonRoot can verify it: nothing runs as root, and
# nothing needs a writable root filesystem.
USER 1000:1000
# 8080: /livez and /readyz (HEALTH_PORT); 9464: Prometheus /metrics (METRICS_PORT).
EXPOSE 8080 9464
# The entrypoint sizes the heap from the container's memory limit (NODE_OPTIONS), then execs the command.
# Start with node, never npm (npm does not pass SIGTERM on).
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/kandji-datadog-entrypoint"]
CMD ["node", "dist/src/processes/worker/main.js"]

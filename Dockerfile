# syntax=docker/dockerfile:1
# Gatehouse container image: non-root, read-only root filesystem friendly.
#   docker build -t gatehouse .
#   docker run --read-only --tmpfs /tmp -v gatehouse-state:/var/lib/gatehouse \
#     -v "$PWD/gatehouse.yaml:/etc/gatehouse/gatehouse.yaml:ro" --env-file gatehouse.env -p 8080:8080 gatehouse
# See docs/deploy.md.
# Base: Node.js 24, the active LTS line (supported: 20.18+, 22, 24 — README "Supported runtimes";
# checked with scripts/check-runtimes.sh). Node 20 is end-of-life from April 2026.

FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY console ./console
RUN npm run build

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/console/dist ./console/dist
COPY package.json ./
COPY bin ./bin
# Writable state (managed assertion keys, audit file) lives only in volumes; the rest is read-only.
RUN mkdir -p /var/lib/gatehouse /etc/gatehouse && chown node:node /var/lib/gatehouse
VOLUME ["/var/lib/gatehouse"]
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/.gatehouse/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/bin/gatehouse.js"]
CMD ["start", "-c", "/etc/gatehouse/gatehouse.yaml"]

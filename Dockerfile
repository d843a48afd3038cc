# hostguard-exporter container image.
#
# Watching the host from a container works as it does for node_exporter: share the host's PID
# namespace and network, mount the host root read-only, and point the exporter at it:
#
#   docker run -d --name hostguard --pid=host --net=host \
#     -v /:/host:ro,rslave -v hostguard-state:/var/lib/hostguard \
#     --cap-add=SYS_PTRACE --cap-add=DAC_READ_SEARCH \
#     hostguard-exporter --path.rootfs=/host --path.procfs=/host/proc
#
# Without the two capabilities the exporter still runs, as the unprivileged user below, but cannot
# see the executables and sockets of other users' processes (see README, "Privileges").

# ---- build: compile TypeScript with the dev dependencies ---------------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# ---- run: production dependencies and the compiled code only ------------------------------------
FROM node:24-bookworm-slim
ENV NODE_ENV=production MALLOC_ARENA_MAX=1 MALLOC_TRIM_THRESHOLD_=0
WORKDIR /opt/hostguard-exporter
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY examples ./examples
RUN mkdir -p /var/lib/hostguard && chown 65534:65534 /var/lib/hostguard
USER 65534:65534
EXPOSE 10177
VOLUME ["/var/lib/hostguard"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:10177/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=1", "--optimize-for-size", "/opt/hostguard-exporter/dist/cli/main.js", "--state.dir=/var/lib/hostguard"]

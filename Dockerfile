# syntax=docker/dockerfile:1
# The HealthLake worker (dist/worker/main.js) as a container image. Configured by environment
# variables only (worker/README.md): TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY or
# TEMPORAL_TLS_CLIENT_CERT_PATH/_KEY_PATH, AWS_REGION; AWS credentials from the default chain
# (task role, IRSA, instance profile). Exit codes: 0 stopped by SIGTERM, 1 fatal, 2 bad variable.
#
#   docker build -t temporal-healthlake-worker .
#   docker run --rm -e TEMPORAL_ADDRESS=... -e TEMPORAL_NAMESPACE=... -e TEMPORAL_API_KEY=... \
#     -e AWS_REGION=us-east-1 -e HEALTHLAKE_METRICS_BIND=0.0.0.0:9464 -p 9464:9464 temporal-healthlake-worker

FROM node:22-bookworm-slim AS build
WORKDIR /app
# The build needs the healthlake-emulator workspace (the library's testing entry and CLI compile
# against its types); the image does not: it is left out below.
COPY package.json package-lock.json ./
COPY emulator/package.json emulator/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY activities activities
COPY workflows workflows
COPY worker worker
COPY client client
COPY emulator emulator
COPY cli cli
COPY testing testing
COPY examples examples
RUN npm run build
# The @temporalio packages are peer dependencies of the library (an application brings its own);
# the image is the application, so they become plain dependencies here. @temporalio/testing (the
# local dev server for tests and the demo) and the optional peer healthlake-emulator are left out.
RUN node -e " \
  const fs = require('node:fs'); \
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')); \
  const { '@temporalio/testing': _testing, 'healthlake-emulator': _emulator, ...peers } = pkg.peerDependencies; \
  pkg.dependencies = { ...pkg.dependencies, ...peers }; \
  delete pkg.devDependencies; delete pkg.peerDependencies; delete pkg.peerDependenciesMeta; \
  delete pkg.workspaces; delete pkg.scripts; \
  fs.writeFileSync('package.json', JSON.stringify(pkg, null, 2));" \
  && rm -rf node_modules && npm install --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
USER node
# Prometheus metrics when HEALTHLAKE_METRICS_BIND=0.0.0.0:9464 is set.
EXPOSE 9464
# SIGTERM drains (activities get 5 s) and exits 0 within 10 s: keep the stop timeout above that.
STOPSIGNAL SIGTERM
CMD ["node", "dist/worker/main.js"]

# liege emperor as PID 1 of a container: one vassal per INI in
# /etc/liege/vassals (mount your own over it). `docker stop` sends SIGTERM:
# every vassal stops gracefully (emperor-stop hooks run) and the emperor
# exits 0 within reload-mercy; SIGHUP (`docker kill -s HUP`) reloads them all.
#   docker build -f docker/emperor.Dockerfile -t liege-emperor .
#   docker run --rm -p 8080:8080 -v $PWD/docker/emperor-vassals:/etc/liege/vassals liege-emperor
# As PID 1 the emperor reaps every orphan of the container (no `--init`
# needed; test/integration/pid1.test.ts). An instance image: docker/Dockerfile.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/liege
COPY package.json package-lock.json tsconfig.json tsconfig.api.json ./
COPY native ./native
COPY scripts ./scripts
COPY src ./src
COPY bin ./bin
COPY configs ./configs
RUN npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /opt/liege
COPY --from=build /opt/liege /opt/liege
RUN ln -s /opt/liege/bin/liege /usr/local/bin/liege
COPY docker/emperor-vassals /etc/liege/vassals
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/liege/bin/liege", "--emperor", "/etc/liege/vassals", "--emperor-stats", "/run/liege-emperor.sock"]

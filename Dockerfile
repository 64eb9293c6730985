# syntax=docker/dockerfile:1
#
# CLM Bridge in a minimal image: a static binary (built by build/static.sh,
# the one place that holds the build flags) on distroless/static, which
# carries CA certificates, /etc/passwd with the "nonroot" user (65532) and
# nothing else: no shell, no package manager, no curl.
#
#   docker build -t clm-bridge \
#       --build-arg VERSION="$(git describe --tags --always --dirty)" \
#       --build-arg REVISION="$(git rev-parse HEAD)" .
#   docker run -d --name clm-bridge --env-file bridge.env --stop-timeout 30 \
#       -v clm-data:/data --restart unless-stopped clm-bridge
#
# (deploy/docker-compose.yml does the same with tokens as secrets.)

ARG GO_VERSION=1.26
# The build context has no .git (.dockerignore): the version comes in as
# build arguments, for `bridge version`, the start-up log, /metrics and
# the image's labels. Empty: the binary reports "devel".
ARG VERSION=""
ARG REVISION=""

FROM golang:${GO_VERSION}-bookworm AS build
# gcc and libc6-dev (with libc.a) come with this image; cgo needs them for
# go-sqlite3, and build/static.sh links it statically.
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION
ARG REVISION
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    VERSION="$VERSION" REVISION="$REVISION" sh build/static.sh /out/bridge
# The data directory, created here because the final image has no mkdir.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION
ARG REVISION
LABEL org.opencontainers.image.title="CLM Bridge" \
      org.opencontainers.image.description="Chrono-Library Messenger for Telegram and Discord" \
      org.opencontainers.image.source="https://github.com/clmbridge/clmbridge" \
      org.opencontainers.image.licenses="BSD-3-Clause" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/bridge /bridge
COPY --from=build --chown=65532:65532 /out/data /data
# The HTTP endpoint (/healthz, /readyz, /metrics) listens on every
# interface of the container, so the EXPOSEd port answers: other
# containers on the same Docker network (Prometheus) can scrape it, and
# nothing outside can unless the port is published. It has no
# authentication: publish it only to loopback or a monitoring network
# (-p 127.0.0.1:9464:9464), never to the internet. The HEALTHCHECK asks
# it from inside the container.
ENV CLM_DATA_DIR=/data \
    CLM_HTTP_ADDR=0.0.0.0:9464 \
    CLM_LOG_FORMAT=json
USER 65532:65532
VOLUME /data
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/bridge", "healthcheck"]
# A clean stop drains the platforms for up to 10 s, then HTTP for 5 s: give
# it docker stop -t 30 (--stop-timeout 30, or stop_grace_period in
# Compose); Docker's default 10 s may cut the drain short.
ENTRYPOINT ["/bridge"]

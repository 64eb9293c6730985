# syntax=docker/dockerfile:1
#
# CLM Bridge in a minimal image: a static binary (built by build/static.sh,
# the one place that holds the build flags) on distroless/static, which
# carries CA certificates, /etc/passwd with the "nonroot" user (65532) and
# nothing else: no shell, no package manager, no curl.
#
#   docker build -t clm-bridge .
#   docker run -d --name clm-bridge --env-file bridge.env \
#       -v clm-data:/data --restart unless-stopped clm-bridge

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
# gcc and libc6-dev (with libc.a) come with this image; cgo needs them for
# go-sqlite3, and build/static.sh links it statically.
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    sh build/static.sh /out/bridge
# The data directory, created here because the final image has no mkdir.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bridge /bridge
COPY --from=build --chown=65532:65532 /out/data /data
# CLM_HTTP_ADDR stays on loopback inside the container: the HEALTHCHECK runs
# in the container. Set it to 0.0.0.0:9464 (and publish the port to a
# trusted network only) to scrape /metrics from outside.
ENV CLM_DATA_DIR=/data \
    CLM_HTTP_ADDR=127.0.0.1:9464 \
    CLM_LOG_FORMAT=json
USER 65532:65532
VOLUME /data
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/bridge", "healthcheck"]
ENTRYPOINT ["/bridge"]

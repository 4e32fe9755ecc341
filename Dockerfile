# Layan as a container: a static binary (CGO_ENABLED=0; the WhatsApp device store is
# pure-Go SQLite) that carries its content, run as a non-root user.
#   docker build -t layan .
#   docker run -p 8080:8080 -v layan-data:/data layan
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
COPY third_party ./third_party
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/layan .
# DATA_DIR must belong to the user the service runs as: a volume mounted on /data takes
# the ownership of the image's /data (distroless has no shell to chown at run time;
# 65532 is its nonroot user).
RUN mkdir -m 0700 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/layan /usr/local/bin/layan
COPY --from=build --chown=65532:65532 /out/data /data
ENV HTTP_ADDR=0.0.0.0:8080 \
    DATA_DIR=/data
VOLUME /data
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/layan", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/layan"]

# emrguard as a container image: a static (musl) binary on distroless/static, running as the
# non-root user 65532 (the generated webhook Deployment runs as 65532:65532 with a read-only
# root file system).
#
#   docker build -t registry.example.com/emrguard:0.1.0 .
#   emrguard generate webhook --image registry.example.com/emrguard:0.1.0 --cert-manager ...
#
# The build stage compiles with `--locked` from this repository's Cargo.lock.
FROM docker.io/library/rust:1-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
ARG TARGET=x86_64-unknown-linux-musl
RUN rustup target add "$TARGET"
WORKDIR /src
COPY . .
RUN cargo build --release --locked --target "$TARGET" -p emrguard \
 && cp "target/$TARGET/release/emrguard" /emrguard \
 && /emrguard --version

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /emrguard /emrguard
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/emrguard"]
CMD ["--help"]

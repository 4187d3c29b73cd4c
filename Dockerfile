# meshdrill's container image, built from this repository:
#   docker build -t meshdrill:0.1.0 .
#   docker run --rm meshdrill:0.1.0 --help
# The Kubernetes Indexed Job in deploy/k8s/ runs it, one pod per shard.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# The exact dependency versions of Cargo.lock; only the binary, not the
# tests or benches.
RUN cargo build --release --locked --bin meshdrill \
 && strip target/release/meshdrill

FROM debian:bookworm-slim
# ca-certificates: https targets are verified against the OS trust store
# (rustls-native-certs), as the users' own clients are.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --create-home --home-dir /home/meshdrill meshdrill \
 && mkdir /results && chown meshdrill /results
COPY --from=build /src/target/release/meshdrill /usr/local/bin/meshdrill
USER 10001
WORKDIR /home/meshdrill
ENTRYPOINT ["meshdrill"]
CMD ["--help"]

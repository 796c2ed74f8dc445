# Builds every zocket command on Debian bookworm with Debian's DPDK 22.11.
# Running the tools needs hugepages and, for memif, a shared /run/zocket:
#   docker run --privileged -v /dev/hugepages:/dev/hugepages -v /run/zocket:/run/zocket zocket zfudppingpong …
FROM golang:1.26-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libdpdk-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -o /out/ ./cmd/...

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends dpdk iproute2 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
COPY configs/ /etc/zocket/

# Confab server image: `docker compose up --build` (see docker-compose.yml).

# ---- web: the web client (clients/web) bundled into /src/clients/web/dist -------------
# Pure JavaScript and WebAssembly tools only; --ignore-scripts: nothing is fetched at install.
FROM node:20-bookworm-slim AS web
WORKDIR /src
COPY clients/ clients/
RUN npm ci --prefix clients --no-audit --no-fund --ignore-scripts \
 && npm --prefix clients/web run --silent build

# ---- build: compile and install into /opt/confab ------------------------------------
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ clang cmake make pkg-config ca-certificates \
      libboost1.81-dev libboost-url1.81-dev libpqxx-dev nlohmann-json3-dev libspdlog-dev \
      libsodium-dev libtomlplusplus-dev libmagic-dev libvips-dev libjemalloc-dev libjwt-dev libssl-dev \
      libarchive-dev libnats-dev libnghttp2-dev libavformat-dev libavcodec-dev libavutil-dev libswscale-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCONFAB_BUILD_TESTS=OFF -DCONFAB_BUILD_BENCH=OFF \
 && cmake --build build -j"$(nproc)" \
 && cmake --install build --prefix /opt/confab

# ---- runtime: the binary, its shared libraries and the runtime packages only ----------
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libboost-url1.81.0 libpqxx-6.4 libsodium23 libspdlog1.10 libfmt9 libtomlplusplus3 \
      libmagic1 libmagic-mgc libvips42 libjemalloc2 libjwt0 libarchive13 libnats3.4 libnghttp2-14 \
      libavformat59 libavcodec59 libavutil57 libswscale6 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --home-dir /var/lib/confab --shell /usr/sbin/nologin confab \
 && mkdir -p /var/lib/confab/media \
 && chown -R confab:confab /var/lib/confab
COPY --from=build /opt/confab /opt/confab
COPY --from=web /src/clients/web/dist /opt/confab/web
COPY config/confab.toml /etc/confab/confab.toml
ENV CONFAB_LISTEN_ADDRESS=0.0.0.0 \
    CONFAB_MEDIA_DIR=/var/lib/confab/media \
    CONFAB_WEB_ROOT=/opt/confab/web
VOLUME /var/lib/confab/media
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
USER confab
ENTRYPOINT ["/opt/confab/bin/confab", "--config", "/etc/confab/confab.toml"]

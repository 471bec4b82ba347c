#!/usr/bin/env python3
"""Static checks that the deploy files agree with each other and with the code.

Usage: check_deploy.py REPO_ROOT

Reads Dockerfile, docker-compose.yml, docker-compose.cluster.yml, config/haproxy.cfg (also
checked by `haproxy -c` where installed), .dockerignore, scripts/dev, .ci/run, README.md and
src/config/config.cpp; prints every failed check and exits 1, or prints
"deploy files: N checks passed".
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from urllib.parse import urlparse

try:
    import yaml
except ImportError:  # python3-yaml is in scripts/dev's package list
    print("FAIL: python3-yaml is not installed (apt-get install python3-yaml)")
    sys.exit(1)

# Runtime libraries whose -dev package is pulled in by another -dev package in the list.
PROVIDED_BY = {"libfmt": "libspdlog-dev"}


class Checker:
    def __init__(self, root):
        self.root = root
        self.passed = 0
        self.failures = []

    def check(self, ok, message):
        if ok:
            self.passed += 1
        else:
            self.failures.append(message)
        return ok

    def read(self, rel):
        path = os.path.join(self.root, rel)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            self.check(False, f"{rel}: cannot read ({e.strerror})")
            return None
        self.passed += 1
        return text


# ----------------------------------------------------------------------------------------
# parsers


def dockerfile_stages(text):
    """List of stages, each a list of (INSTRUCTION, args) with continuations joined."""
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        lines.append(current)
        current = ""
    if current:
        lines.append(current)
    stages = []
    for line in lines:
        parts = line.split(None, 1)
        instr, args = parts[0].upper(), (parts[1] if len(parts) > 1 else "")
        if instr == "FROM" or not stages:
            stages.append([])
        stages[-1].append((instr, args))
    return stages


def docker_env(stage):
    env = {}
    for instr, args in stage:
        if instr != "ENV":
            continue
        tokens = shlex.split(args)
        if tokens and "=" not in tokens[0]:  # legacy form: ENV KEY value with spaces
            env[tokens[0]] = args.split(None, 1)[1] if len(tokens) > 1 else ""
            continue
        for token in tokens:
            key, _, value = token.partition("=")
            env[key] = value
    return env


def apt_packages(stage):
    pkgs = []
    for instr, args in stage:
        if instr != "RUN":
            continue
        for m in re.finditer(r"apt-get\s+install\s+(.*?)(?:&&|;|\|\||$)", args):
            pkgs += [t for t in m.group(1).split() if not t.startswith("-")]
    return pkgs


def exec_form(args):
    try:
        value = json.loads(args)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def dev_packages(text):
    m = re.search(r"^PACKAGES=\((.*?)^\)", text, re.S | re.M)
    if not m:
        return None
    body = "\n".join(line.split("#", 1)[0] for line in m.group(1).splitlines())
    return body.split()


def compose_env(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {str(k): ("" if v is None else str(v)) for k, v in env.items()}


def compose_mount_targets(service):
    targets = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            targets.append(volume.get("target"))
        else:
            parts = str(volume).split(":")
            targets.append(parts[1] if len(parts) > 1 else parts[0])
    return targets


# ----------------------------------------------------------------------------------------
# checks


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip())
        return 2
    c = Checker(os.path.abspath(sys.argv[1]))

    dockerfile = c.read("Dockerfile")
    compose_text = c.read("docker-compose.yml")
    cluster_text = c.read("docker-compose.cluster.yml")
    haproxy_cfg = c.read("config/haproxy.cfg")
    dockerignore = c.read(".dockerignore")
    dev = c.read("scripts/dev")
    ci = c.read(".ci/run")
    readme = c.read("README.md")
    config_cpp = c.read("src/config/config.cpp")

    # --- Dockerfile
    runtime_env, runtime_pkgs, build_pkgs = {}, [], []
    media_dir = None
    if dockerfile is not None:
        stages = dockerfile_stages(dockerfile)
        c.check(len(stages) >= 2, "Dockerfile: expected a multi-stage build (build + runtime)")
        runtime = stages[-1]
        build_pkgs = [p for s in stages[:-1] for p in apt_packages(s)]
        runtime_pkgs = apt_packages(runtime)
        runtime_env = docker_env(runtime)
        instrs = {}
        for instr, args in runtime:
            instrs.setdefault(instr, []).append(args)

        health = instrs.get("HEALTHCHECK", [])
        c.check(health and not health[-1].strip().upper().startswith("NONE"),
                "Dockerfile: runtime stage has no HEALTHCHECK")
        user = (instrs.get("USER") or [""])[-1].split(":")[0].strip()
        c.check(user not in ("", "root", "0"), "Dockerfile: runtime stage must end with a non-root USER")

        entry = exec_form((instrs.get("ENTRYPOINT") or [""])[-1])
        c.check(entry is not None, "Dockerfile: ENTRYPOINT missing or not in exec (JSON) form")
        entry = entry or []
        config_path = entry[entry.index("--config") + 1] if "--config" in entry[:-1] else None
        c.check(config_path is not None, "Dockerfile: ENTRYPOINT does not pass --config FILE")
        if config_path:
            copied = [a.split() for a in instrs.get("COPY", []) if not a.startswith("--from")]
            c.check(any(len(a) >= 2 and a[-1] == config_path and a[0] == "config/confab.toml" for a in copied),
                    f"Dockerfile: ENTRYPOINT's config {config_path} is not COPYed from config/confab.toml")
        c.check(os.path.isfile(os.path.join(c.root, "config/confab.toml")),
                "config/confab.toml (used by the Dockerfile and scripts/dev run) does not exist")

        media_dir = runtime_env.get("CONFAB_MEDIA_DIR")
        c.check(bool(media_dir), "Dockerfile: runtime stage does not set CONFAB_MEDIA_DIR")
        if media_dir:
            volumes = " ".join(instrs.get("VOLUME", []))
            c.check(media_dir in volumes, f"Dockerfile: CONFAB_MEDIA_DIR {media_dir} is not declared a VOLUME")

        exposed = " ".join(instrs.get("EXPOSE", []))
        c.check("8080" in exposed.split() or "8080/tcp" in exposed.split(), "Dockerfile: does not EXPOSE 8080")
        c.check(any("127.0.0.1:8080/healthz" in h for h in health),
                "Dockerfile: HEALTHCHECK does not probe http://127.0.0.1:8080/healthz")
        c.check(runtime_env.get("CONFAB_LISTEN_ADDRESS") == "0.0.0.0",
                "Dockerfile: CONFAB_LISTEN_ADDRESS must be 0.0.0.0 inside the container")
        c.check("postgresql" not in runtime_pkgs and not any(p.endswith("-dev") for p in runtime_pkgs),
                "Dockerfile: runtime stage installs build or database packages")

    # --- scripts/dev package list against the Dockerfile
    packages = dev_packages(dev) if dev is not None else None
    if dev is not None:
        c.check(packages is not None, "scripts/dev: no PACKAGES=( ... ) list found")
        c.check(os.access(os.path.join(c.root, "scripts/dev"), os.X_OK), "scripts/dev is not executable")
        c.check(dev.startswith("#!/usr/bin/env bash") or dev.startswith("#!/bin/bash"),
                "scripts/dev: not a bash script")
        c.check("set -euo pipefail" in dev, "scripts/dev: missing set -euo pipefail")
    if packages:
        devs = [p for p in packages if p.endswith("-dev")]
        for pkg in runtime_pkgs:
            if not pkg.startswith("lib"):
                c.check(pkg in packages, f"Dockerfile: runtime package {pkg} is not in scripts/dev's PACKAGES")
                continue
            stem = re.sub(r"[-\d.]+$", "", pkg)
            found = False
            while stem and not found:
                found = any(d.startswith(stem) for d in devs) or PROVIDED_BY.get(stem) in devs
                stem = stem.rpartition("-")[0]
            c.check(found, f"Dockerfile: runtime library {pkg} has no -dev counterpart in scripts/dev's PACKAGES")
        for pkg in build_pkgs:
            c.check(pkg in packages, f"Dockerfile: build package {pkg} is not in scripts/dev's PACKAGES")

    # --- docker-compose.yml
    if compose_text is not None:
        try:
            compose = yaml.safe_load(compose_text)
        except yaml.YAMLError as e:
            compose = None
            c.check(False, f"docker-compose.yml: does not parse: {e}")
        services = compose.get("services") if isinstance(compose, dict) else None
        services = services if isinstance(services, dict) else {}
        c.check("postgres" in services and "confab" in services,
                "docker-compose.yml: needs services `postgres` and `confab`")
        pg = services.get("postgres") or {}
        app = services.get("confab") or {}

        hc = pg.get("healthcheck") or {}
        c.check(bool(hc.get("test")), "docker-compose.yml: postgres has no healthcheck")
        depends = app.get("depends_on") or {}
        cond = (depends.get("postgres") or {}).get("condition") if isinstance(depends, dict) else None
        c.check(cond == "service_healthy",
                "docker-compose.yml: confab must depend on postgres with condition: service_healthy")
        c.check(app.get("build") is not None, "docker-compose.yml: confab is not built from the Dockerfile")
        if media_dir:
            c.check(media_dir in compose_mount_targets(app),
                    f"docker-compose.yml: no volume mounted at the Dockerfile's CONFAB_MEDIA_DIR {media_dir}")
        ports = [str(p) for p in app.get("ports") or []]
        c.check(any(p.split(":")[-1].split("/")[0] == "8080" for p in ports),
                "docker-compose.yml: confab does not publish container port 8080")

        app_env, pg_env = compose_env(app), compose_env(pg)
        url = app_env.get("CONFAB_DATABASE_URL", "")
        c.check(bool(url), "docker-compose.yml: confab has no CONFAB_DATABASE_URL")
        if url:
            u = urlparse(url)
            c.check(u.hostname == "postgres" and (u.port or 5432) == 5432,
                    "docker-compose.yml: CONFAB_DATABASE_URL does not point at the postgres service")
            c.check(u.username == pg_env.get("POSTGRES_USER") and u.password == pg_env.get("POSTGRES_PASSWORD")
                    and u.path.lstrip("/") == pg_env.get("POSTGRES_DB"),
                    "docker-compose.yml: CONFAB_DATABASE_URL credentials/database differ from POSTGRES_*")
    else:
        app_env = {}

    # --- docker-compose.cluster.yml: the nodes, NATS and HAProxy in step with the single node
    node_env = {}
    if cluster_text is not None:
        try:
            cluster = yaml.safe_load(cluster_text)
        except yaml.YAMLError as e:
            cluster = None
            c.check(False, f"docker-compose.cluster.yml: does not parse: {e}")
        services = cluster.get("services") if isinstance(cluster, dict) else None
        services = services if isinstance(services, dict) else {}
        nodes = {name: svc for name, svc in services.items() if name.startswith("confab-")}
        c.check(len(nodes) >= 3, "docker-compose.cluster.yml: needs three nodes confab-1..3")
        c.check("nats" in services and "haproxy" in services and "postgres" in services,
                "docker-compose.cluster.yml: needs services postgres, nats and haproxy")
        ids = set()
        for name, node in nodes.items():
            env = compose_env(node)
            node_env.update(env)
            c.check(node.get("build") is not None, f"docker-compose.cluster.yml: {name} is not built from the Dockerfile")
            c.check(env.get("CONFAB_DATABASE_URL") == app_env.get("CONFAB_DATABASE_URL"),
                    f"docker-compose.cluster.yml: {name}'s CONFAB_DATABASE_URL differs from docker-compose.yml's")
            c.check(env.get("CONFAB_CLUSTER_NATS_URLS") == "nats://nats:4222",
                    f"docker-compose.cluster.yml: {name} does not use the nats service")
            ids.add(env.get("CONFAB_CLUSTER_NODE_ID"))
            if media_dir:
                c.check(media_dir in compose_mount_targets(node),
                        f"docker-compose.cluster.yml: {name} has no media volume at {media_dir}")
            if haproxy_cfg is not None:
                c.check(re.search(rf"^\s*server\s+\S+\s+{re.escape(name)}:8080\b", haproxy_cfg, re.M) is not None,
                        f"config/haproxy.cfg: no server line for {name}:8080")
        c.check(len(ids) == len(nodes) and None not in ids,
                "docker-compose.cluster.yml: every node needs a CONFAB_CLUSTER_NODE_ID of its own")
        haproxy = services.get("haproxy") or {}
        c.check(any("config/haproxy.cfg" in str(v) for v in haproxy.get("volumes") or []),
                "docker-compose.cluster.yml: haproxy does not mount config/haproxy.cfg")
    if haproxy_cfg is not None and shutil.which("haproxy"):
        checked = subprocess.run(["haproxy", "-c", "-q", "-f", os.path.join(c.root, "config/haproxy.cfg")],
                                 capture_output=True, text=True)
        c.check(checked.returncode == 0, f"config/haproxy.cfg: haproxy -c refused it: {checked.stderr.strip()}")

    # --- every CONFAB_* variable the deploy files set is one the config module reads
    names = sorted({k for k in list(runtime_env) + list(app_env) + list(node_env) if k.startswith("CONFAB_")})
    c.check(bool(names), "no CONFAB_* variables found in Dockerfile or docker-compose.yml")
    if config_cpp is not None:
        for name in names:
            c.check(f'"{name}"' in config_cpp,
                    f'{name} is set by Dockerfile/docker-compose.yml but "{name}" does not appear in src/config/config.cpp')

    # --- .dockerignore
    if dockerignore is not None:
        entries = {line.strip().rstrip("/") for line in dockerignore.splitlines()}
        for entry in ("build", ".confab", ".git"):
            c.check(entry in entries, f".dockerignore: does not exclude {entry}")

    # --- README and CI
    if readme is not None:
        head = "\n".join(readme.splitlines()[:40])
        for cmd in ("./scripts/dev run", "./scripts/dev test"):
            c.check(cmd in head, f"README.md: `{cmd}` is not in its first 40 lines")
    if ci is not None:
        code = "\n".join(line for line in ci.splitlines() if not line.lstrip().startswith("#"))
        c.check(re.search(r"scripts/dev\s+test\b", code) is not None, ".ci/run: does not call scripts/dev test")

    for failure in c.failures:
        print(f"FAIL: {failure}")
    if c.failures:
        print(f"deploy files: {len(c.failures)} of {len(c.failures) + c.passed} checks failed")
        return 1
    print(f"deploy files: {c.passed} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

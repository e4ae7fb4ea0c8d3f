"""deploy/ (docker-compose + Kubernetes) and endpoints.prod.yml agree with each other and with
`gehoor run-prod`. No Docker engine or cluster here: structural checks — every variable
endpoints.prod.yml expands is provided to every Rasa container, secrets come from variables,
services/ports/probes/selectors/ingress backends point at things that exist, and both nginx
configs pass `nginx -t` — plus schema validation, offline: every Kubernetes document against
the Kubernetes JSON schemas (strict) of K8S_VERSIONS with kubernetes-validate, and the compose
file against the Compose Specification schema with check-jsonschema. Both are pinned in
requirements-deploy-lint.txt and installed into .tools/deploy-lint/ by
scripts/install-deploy-lint.sh (`make test` runs it); without them those tests are skipped,
unless CI is set. Deliberately broken copies prove the validators can fail. Needs no running
service."""
from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot import run_prod
from services import require  # (tests/services.py)

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ENDPOINTS = ROOT / "endpoints.prod.yml"
VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def endpoint_variables() -> set:
    code = "\n".join(line.split("#", 1)[0] for line in ENDPOINTS.read_text().splitlines())
    return set(VAR.findall(code))


def test_endpoints_expand_only_unquoted_variables_with_defaults():
    text = ENDPOINTS.read_text()
    quoted = [line for line in text.splitlines() if re.search(r"""["']\$\{""", line) and not line.lstrip().startswith("#")]
    assert not quoted, f"Rasa does not expand quoted ${{VAR}}: {quoted}"
    names = endpoint_variables()
    assert {"GEHOOR_TRACKER_DB_URL", "GEHOOR_ACTION_URL", "GEHOOR_RABBITMQ_PASSWORD", "GEHOOR_REDIS_PASSWORD"} <= names
    # run-prod sets every one of them (Rasa refuses to start when one is unset)
    known = set(run_prod.PROD_DEFAULTS) | {"GEHOOR_TRACKER_DB_URL", "GEHOOR_ACTION_URL"}
    assert names <= known, names - known
    no_literal_secret = [line for line in text.splitlines()
                         if re.match(r"\s*(password|username|url):\s*[^$\s]", line)]
    assert not no_literal_secret, no_literal_secret


def test_rasa_reads_endpoints_prod(monkeypatch):
    from rasa.core.utils import AvailableEndpoints

    env = run_prod.prod_env()
    env["GEHOOR_ACTION_URL"] = "http://127.0.0.1:5150/a1/webhook"
    env["GEHOOR_RABBITMQ_PASSWORD"] = "s3cret"
    for key in endpoint_variables():
        monkeypatch.setenv(key, env[key])
    endpoints = AvailableEndpoints.read_endpoints(str(ENDPOINTS))
    assert endpoints.tracker_store.type == "bot.channels.tracker_store.GehoorSQLTrackerStore"
    assert endpoints.tracker_store.url == env["GEHOOR_TRACKER_DB_URL"]
    assert endpoints.tracker_store.kwargs["dialect"] == "postgresql"
    assert endpoints.lock_store.type == "redis" and endpoints.lock_store.url == env["GEHOOR_REDIS_HOST"]
    assert endpoints.event_broker.type == "pika"
    assert endpoints.event_broker.kwargs["password"] == "s3cret"
    assert endpoints.event_broker.kwargs["queues"] == [env["GEHOOR_RABBITMQ_QUEUE"]]
    assert endpoints.action.url == "http://127.0.0.1:5150/a1/webhook"


# ---------------------------------------------------------------------------- compose
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def argv_port(argv) -> int:
    return int(argv[argv.index("--port") + 1])


def nginx_conf() -> str:
    return (DEPLOY / "nginx" / "nginx.conf").read_text()


def test_compose_topology_matches_the_profile():
    services = compose()["services"]
    rasa = sorted(s for s in services if s.startswith("rasa-"))
    actions = sorted(s for s in services if s.startswith("action-"))
    assert rasa == ["rasa-1", "rasa-2"] and actions == ["action-1", "action-2"]
    conf = nginx_conf()
    listens = {int(p) for p in re.findall(r"listen (\d+);", conf)}
    upstream_servers = set(re.findall(r"server ([a-z0-9-]+):(\d+)", conf))
    for host, port in upstream_servers:
        assert host in services, f"nginx upstream {host} is not a compose service"
        assert argv_port(services[host]["command"]) == int(port), f"{host} does not listen on {port}"
    assert {(s, "5005") for s in rasa} <= upstream_servers and {(s, "5055") for s in actions} <= upstream_servers
    for name in rasa:
        env = services[name]["environment"]
        missing = endpoint_variables() - set(env)
        assert not missing, f"{name} lacks {missing}"
        url = env["GEHOOR_ACTION_URL"]
        match = re.match(r"http://([a-z0-9-]+):(\d+)(/a\d+)/webhook$", url)
        assert match and match.group(1) == "nginx" and int(match.group(2)) in listens, url
        assert f"location {match.group(3)}/ " in conf, f"nginx has no {match.group(3)}/ route"
        assert "tracker_check" in " ".join(services[name]["healthcheck"]["test"])
    for name in actions:
        assert "/ready" in " ".join(services[name]["healthcheck"]["test"])
        assert services[name]["volumes"], f"{name} needs its own outbox volume"
    outboxes = [services[a]["volumes"][0].split(":")[0] for a in actions]
    assert len(set(outboxes)) == len(outboxes), "action servers must not share an outbox"
    declared = set(compose()["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith(".") or source in declared, source
    assert set(services["nginx"]["depends_on"]) == set(rasa + actions)
    for name, service in services.items():
        for dependency in service.get("depends_on") or []:
            assert dependency in services, f"{name} depends on {dependency}, which is not a service"


def test_compose_has_no_literal_secrets():
    for name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN", key) or key.endswith("_DB_URL"):
                assert "${" in str(value), f"{name}: {key} must come from a variable, not the file"


@pytest.mark.skipif(not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()), reason="nginx not installed")
@pytest.mark.parametrize("which", ["compose", "run-prod"])
def test_nginx_configs_pass_nginx_t(tmp_path, which):
    if which == "compose":
        conf = re.sub(r"server (rasa|action)-\d+:", "server 127.0.0.1:", nginx_conf())
        conf = re.sub(r"listen (\d+);", lambda m: f"listen 127.0.0.1:{m.group(1)};", conf)
    else:
        conf = run_prod.nginx_config(5005, "127.0.0.1", [5101, 5102], 5150, [5151, 5152], tmp_path, 5149)
    path = tmp_path / "nginx.conf"
    path.write_text(conf)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(path), "-e", str(tmp_path / "error.log")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------- kubernetes
REQUIRED = {
    ("v1", "Namespace"): [],
    ("v1", "ConfigMap"): ["data"],
    ("v1", "Secret"): ["stringData"],
    ("v1", "Service"): ["spec.selector", "spec.ports"],
    ("apps/v1", "Deployment"): ["spec.selector.matchLabels", "spec.template.metadata.labels",
                                "spec.template.spec.containers"],
    ("networking.k8s.io/v1", "Ingress"): ["spec.rules"],
}


def k8s_docs() -> list:
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def dig(doc, dotted):
    for part in dotted.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


def test_k8s_manifests_are_well_formed():
    docs = k8s_docs()
    assert docs
    for name, doc in docs:
        kind = (doc.get("apiVersion"), doc.get("kind"))
        assert kind in REQUIRED, f"{name}: unexpected {kind}"
        assert DNS1123.match(doc["metadata"]["name"]), f"{name}: bad name {doc['metadata']['name']}"
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == "gehoor", f"{name}: {doc['metadata']['name']} namespace"
        for field in REQUIRED[kind]:
            assert dig(doc, field) is not None, f"{name}: {doc['kind']} {doc['metadata']['name']} lacks {field}"
        if doc["kind"] == "Deployment":
            labels = dig(doc, "spec.template.metadata.labels")
            assert dig(doc, "spec.selector.matchLabels").items() <= labels.items()
            for c in dig(doc, "spec.template.spec.containers"):
                assert DNS1123.match(c["name"]) and c.get("image")
                ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
                assert all(isinstance(v, int) and 0 < v < 65536 for v in ports.values())
                if "--port" in c.get("args", []):
                    assert argv_port(c["args"]) in ports.values(), f"{c['name']}: --port not exposed"
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    port = dig(c, f"{probe}.httpGet.port")
                    if port is not None:
                        assert port in ports or port in ports.values(), f"{c['name']} {probe} port {port}"
                for env in c.get("env", []):
                    assert isinstance(env.get("value", ""), str), f"{c['name']}: env {env['name']} must be a string"


def test_k8s_references_resolve_and_cover_endpoints():
    docs = [d for _, d in k8s_docs()]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    deployments, services = by_kind["Deployment"], by_kind["Service"]
    for svc in services.values():
        targets = [d for d in deployments.values()
                   if svc["spec"]["selector"].items() <= dig(d, "spec.template.metadata.labels").items()]
        assert targets, f"Service {svc['metadata']['name']} selects no Deployment"
        names = {p["name"] for d in targets for c in dig(d, "spec.template.spec.containers") for p in c["ports"]}
        for port in svc["spec"]["ports"]:
            assert port["targetPort"] in names, f"{svc['metadata']['name']}: targetPort {port['targetPort']}"
    for ing in by_kind["Ingress"].values():
        for rule in ing["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["name"] in services
                assert backend["port"]["number"] in [p["port"] for p in services[backend["name"]]["spec"]["ports"]]
    provided = set()
    for d in deployments.values():
        for c in dig(d, "spec.template.spec.containers"):
            for ref in c.get("envFrom", []):
                if "configMapRef" in ref:
                    cm = by_kind["ConfigMap"][ref["configMapRef"]["name"]]
                    provided |= set(cm["data"])
                if "secretRef" in ref:
                    provided |= set(by_kind["Secret"][ref["secretRef"]["name"]]["stringData"])
    missing = endpoint_variables() - provided
    assert not missing, f"Rasa pods would not start (unset variables): {missing}"
    action_url = by_kind["ConfigMap"]["gehoor-config"]["data"]["GEHOOR_ACTION_URL"]
    host, port = re.match(r"http://([a-z0-9-]+):(\d+)/webhook$", action_url).groups()
    assert host in services and int(port) in [p["port"] for p in services[host]["spec"]["ports"]]
    secret_keys = set(by_kind["Secret"]["gehoor-secrets"]["stringData"])
    config_keys = set(by_kind["ConfigMap"]["gehoor-config"]["data"])
    assert not {k for k in config_keys if re.search(r"PASSWORD|SECRET|TOKEN|_DB_URL", k)}, "secrets in the ConfigMap"
    assert {"GEHOOR_DB_URL", "GEHOOR_TRACKER_DB_URL", "GEHOOR_RABBITMQ_PASSWORD", "GEHOOR_REDIS_PASSWORD"} <= secret_keys
    rest = by_kind["Ingress"]["gehoor-rest"]["metadata"]["annotations"]
    assert rest["nginx.ingress.kubernetes.io/upstream-hash-by"] == "$http_x_gehoor_sender"
    assert by_kind["Ingress"]["gehoor-socketio"]["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"


# ---------------------------------------------------------------------------- schema validation
# The oldest Kubernetes the manifests are meant for, and the newest schemas the pinned
# kubernetes-validate bundles: an API version or field either of them lacks fails.
K8S_VERSIONS = ("1.30.0", "1.37.0")
LINT_PINS = ROOT / "requirements-deploy-lint.txt"
LINT_BIN = ROOT / ".tools" / "deploy-lint" / "bin"


def lint_tool(name: str) -> Path:
    path = LINT_BIN / name
    if not path.exists():
        require(f"{name} is not installed: run scripts/install-deploy-lint.sh (make test does)", "schema")
    return path


def run_tool(*argv) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=300, cwd=ROOT)


def pinned(package: str) -> str:
    for line in LINT_PINS.read_text().splitlines():
        match = re.match(rf"{re.escape(package)}==(\S+)", line.strip())
        if match:
            return match.group(1)
    raise AssertionError(f"{package} is not pinned in {LINT_PINS.name}")


def lines_about(path, lines) -> list:
    """The linter's output lines that name `path` (as a word, or before "::" / ":")."""
    pattern = re.compile(rf"(^|\s){re.escape(str(path))}(:|\s|$)")
    return [line for line in lines if pattern.search(line)]


def k8s_schema_problems(paths, version: str) -> dict:
    """kubernetes-validate --strict over `paths`: {path: [complaints]}, an empty list for a file
    whose every document passed. The tool exits 0 for a document whose apiVersion/kind has no
    schema in `version` (a typo, or an API that version removed) and only warns: that is a
    failure here, and so is a document it did not report on."""
    result = run_tool(lint_tool("kubernetes-validate"), "--strict", "--kubernetes-version", version, *paths)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    problems = {}
    for path in map(str, paths):
        mine = lines_about(path, lines)
        passed = [line for line in mine if re.match(rf"INFO {re.escape(path)} passed for resource ", line)]
        problems[path] = [line for line in mine if line not in passed]
        documents = sum(1 for doc in yaml.safe_load_all(Path(path).read_text()) if doc)
        if len(passed) != documents and not problems[path]:
            problems[path].append(f"{len(passed)} of {documents} documents passed")
    if result.returncode and not any(problems.values()):
        raise AssertionError(f"kubernetes-validate exited {result.returncode}:\n" + "\n".join(lines))
    return problems


def compose_schema_problems(paths) -> dict:
    """check-jsonschema with its vendored Compose Specification schema over `paths`:
    {path: [complaints]}, an empty list for a file that passed."""
    result = run_tool(lint_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", *paths)
    lines = [line.strip() for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    problems = {str(path): lines_about(path, lines) for path in paths}
    if result.returncode and not any(problems.values()):
        raise AssertionError(f"check-jsonschema exited {result.returncode}:\n" + "\n".join(lines))
    if not result.returncode:
        assert not any(problems.values()), problems
    return problems


def test_deploy_linters_are_the_pinned_versions():
    assert run_tool(lint_tool("kubernetes-validate"), "--version").stdout.strip() == pinned("kubernetes-validate")
    version = run_tool(lint_tool("check-jsonschema"), "--version").stdout.strip()
    assert version == f"check-jsonschema, version {pinned('check-jsonschema')}", (
        f"{version}: run scripts/install-deploy-lint.sh")


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_k8s_manifests_match_the_kubernetes_schemas(version):
    paths = sorted((DEPLOY / "k8s").glob("*.yaml"))
    assert paths
    problems = {path: found for path, found in k8s_schema_problems(paths, version).items() if found}
    assert not problems, "\n".join(line for found in problems.values() for line in found)


def test_compose_file_matches_the_compose_specification():
    path = DEPLOY / "docker-compose.yml"
    assert compose_schema_problems([path]) == {str(path): []}


# Deliberately broken copies of the real files: each must fail, with the expected complaint.
def _rasa_container(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]["containers"][0]


K8S_BREAKAGES = {
    "replicas-not-an-integer": (lambda d: d["spec"].update(replicas="two"),
                                "spec.replicas: 'two' is not of type 'integer'"),
    "unknown-container-field": (lambda d: _rasa_container(d).update(imagePullPolcy="Always"),
                                "('imagePullPolcy' was unexpected)"),
    "containers-missing": (lambda d: d["spec"]["template"]["spec"].pop("containers"),
                           "'containers' is a required property"),
    "selector-missing": (lambda d: d["spec"].pop("selector"), "'selector' is a required property"),
    "port-as-string": (lambda d: _rasa_container(d)["ports"][0].update(containerPort="5005"),
                       "containerPort: '5005' is not of type 'integer'"),
    "removed-api-version": (lambda d: d.update(apiVersion="extensions/v1beta1"),
                            "Couldn't find schema for kind Deployment with api version extensions/v1beta1"),
    "kind-typo": (lambda d: d.update(kind="Deploymnet"), "Couldn't find schema for kind Deploymnet"),
}


def _compose_service(doc: dict, name: str) -> dict:
    return doc["services"][name]


COMPOSE_BREAKAGES = {
    "unknown-service-key": (lambda d: _compose_service(d, "redis").update(restrat="always"),
                            r"\$\.services\.redis: .*\('restrat' was unexpected\)"),
    "ports-not-a-list": (lambda d: _compose_service(d, "nginx").update(ports={"public": 5005}),
                         r"\$\.services\.nginx\.ports: \{'public': 5005\} is not of type 'array'"),
    "unknown-depends-on-condition": (
        lambda d: _compose_service(d, "rasa-1")["depends_on"]["postgres"].update(condition="service_ready"),
        r"\$\.services\['rasa-1'\]\.depends_on: .*'service_ready'.* is not valid under any of the given schemas"),
    "unknown-healthcheck-key": (
        lambda d: _compose_service(d, "rasa-1")["healthcheck"].update(intervall="10s"),
        r"\$\.services\['rasa-1'\]\.healthcheck: 'intervall' does not match any of the regexes"),
    "top-level-typo": (lambda d: d.update(service=d.pop("services")),
                       r"\$: 'service' does not match any of the regexes"),
}


@pytest.fixture(scope="module")
def broken_k8s(tmp_path_factory) -> dict:
    """Every K8S_BREAKAGES variant of the real Rasa Deployment, plus the unbroken copy ("control",
    written the same way), validated in one kubernetes-validate run."""
    original = next(d for _, d in k8s_docs() if d["kind"] == "Deployment" and d["metadata"]["name"] == "gehoor-rasa")
    folder = tmp_path_factory.mktemp("k8s-broken")
    paths = {}
    for name, (breakage, _) in {"control": (lambda d: None, None), **K8S_BREAKAGES}.items():
        doc = copy.deepcopy(original)
        breakage(doc)
        paths[name] = folder / f"{name}.yaml"
        paths[name].write_text(yaml.safe_dump(doc, sort_keys=False))
    problems = k8s_schema_problems(list(paths.values()), K8S_VERSIONS[0])
    return {name: problems[str(path)] for name, path in paths.items()}


@pytest.fixture(scope="module")
def broken_compose(tmp_path_factory) -> dict:
    """Every COMPOSE_BREAKAGES variant of deploy/docker-compose.yml (anchors expanded), plus the
    unbroken copy, validated in one check-jsonschema run."""
    folder = tmp_path_factory.mktemp("compose-broken")
    paths = {}
    for name, (breakage, _) in {"control": (lambda d: None, None), **COMPOSE_BREAKAGES}.items():
        doc = json.loads(json.dumps(compose()))  # unshare what YAML anchors share
        breakage(doc)
        paths[name] = folder / f"{name}.yml"
        paths[name].write_text(yaml.safe_dump(doc, sort_keys=False))
    problems = compose_schema_problems(list(paths.values()))
    return {name: problems[str(path)] for name, path in paths.items()}


def test_broken_k8s_control_copy_passes(broken_k8s):
    assert broken_k8s["control"] == []


@pytest.mark.parametrize("breakage", sorted(K8S_BREAKAGES))
def test_broken_k8s_manifest_fails(broken_k8s, breakage):
    expected = K8S_BREAKAGES[breakage][1]
    assert any(expected in line for line in broken_k8s[breakage]), broken_k8s[breakage] or "it passed"


def test_broken_compose_control_copy_passes(broken_compose):
    assert broken_compose["control"] == []


@pytest.mark.parametrize("breakage", sorted(COMPOSE_BREAKAGES))
def test_broken_compose_file_fails(broken_compose, breakage):
    expected = COMPOSE_BREAKAGES[breakage][1]
    assert any(re.search(expected, line) for line in broken_compose[breakage]), broken_compose[breakage] or "it passed"

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse, parseAllDocuments } from "yaml";

/** One mlops container, wherever it is declared: its arguments after `mlops` and the variables it gets. */
export interface ContainerSpec {
  where: string;
  args: string[];
  env: string[];
}

export interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  stringData?: Record<string, string>;
}

interface K8sContainer {
  name: string;
  image: string;
  args?: string[];
  env?: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: { httpGet?: { path: string; port: number | string } };
  livenessProbe?: { httpGet?: { path: string; port: number | string } };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

export interface DeployFiles {
  kubernetes: K8sObject[];
  containers: ContainerSpec[];
  probes: Array<{ where: string; path: string; port: number }>;
  ports: Array<{ where: string; port: number }>;
  secretRefs: Array<{ where: string; key: string }>;
  secretKeys: string[];
  modelMounts: Array<{ where: string; path: string }>;
  dockerfile: {
    stages: string[];
    from: string[];
    runs: string[];
    user: string;
    workdir: string;
    entrypoint: string[];
    copies: string[];
    copyTargets: string[];
  };
}

/** Reads deploy/ into the facts the drift test compares with the code. */
export function deployFiles(dir: string): DeployFiles {
  const facts: DeployFiles = {
    kubernetes: [],
    containers: [],
    probes: [],
    ports: [],
    secretRefs: [],
    secretKeys: [],
    modelMounts: [],
    dockerfile: dockerfile(dir),
  };
  readKubernetes(dir, facts);
  readCompose(dir, facts);
  const d = facts.dockerfile;
  facts.containers.push({ where: "Dockerfile CMD", args: cmdOf(dir), env: [] });
  const health = /http:\/\/127\.0\.0\.1:(\d+)(\/[\w/]+)/.exec(readFileSync(path.join(dir, "Dockerfile"), "utf8"));
  if (health) facts.probes.push({ where: "Dockerfile HEALTHCHECK", path: health[2]!, port: Number(health[1]) });
  for (const exposed of d.runs.length ? exposedPorts(dir) : []) facts.ports.push({ where: "Dockerfile EXPOSE", port: exposed });
  const nginx = readFileSync(path.join(dir, "nginx.conf"), "utf8");
  facts.ports.push({ where: "nginx.conf listen", port: Number(/listen (\d+);/.exec(nginx)![1]) });
  facts.ports.push({ where: "nginx.conf upstream", port: Number(/http:\/\/serve:(\d+)/.exec(nginx)![1]) });
  return facts;
}

function readKubernetes(dir: string, facts: DeployFiles): void {
  const k8sDir = path.join(dir, "kubernetes");
  for (const file of readdirSync(k8sDir).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")) {
    for (const document of parseAllDocuments(readFileSync(path.join(k8sDir, file), "utf8"))) {
      const object = document.toJS() as K8sObject;
      facts.kubernetes.push(object);
      if (object.kind === "Secret") facts.secretKeys.push(...Object.keys(object.stringData ?? {}));
      if (object.kind === "Service") {
        for (const port of (object.spec as { ports: Array<{ port: number }> }).ports) facts.ports.push({ where: `${file} port`, port: port.port });
      }
      const pod = podSpec(object);
      for (const container of pod?.containers ?? []) readContainer(`${file} ${container.name}`, container, facts);
    }
  }
}

function podSpec(object: K8sObject): { containers: K8sContainer[] } | undefined {
  const template = (object.spec as { template?: { spec: { containers: K8sContainer[] } } } | undefined)?.template;
  return template?.spec;
}

function readContainer(where: string, container: K8sContainer, facts: DeployFiles): void {
  facts.containers.push({ where, args: container.args ?? [], env: (container.env ?? []).map((e) => e.name) });
  for (const e of container.env ?? []) if (e.valueFrom?.secretKeyRef) facts.secretRefs.push({ where, key: e.valueFrom.secretKeyRef.key });
  const named = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
  for (const p of container.ports ?? []) facts.ports.push({ where: `${where} containerPort`, port: p.containerPort });
  for (const [kind, probe] of [
    ["readiness", container.readinessProbe],
    ["liveness", container.livenessProbe],
  ] as const) {
    if (!probe?.httpGet) continue;
    const port = typeof probe.httpGet.port === "number" ? probe.httpGet.port : (named.get(probe.httpGet.port) ?? NaN);
    facts.probes.push({ where: `${where} ${kind}Probe`, path: probe.httpGet.path, port });
  }
  for (const mount of container.volumeMounts ?? []) if (mount.name === "models") facts.modelMounts.push({ where, path: mount.mountPath });
}

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
}

function readCompose(dir: string, facts: DeployFiles): void {
  const compose = parse(readFileSync(path.join(dir, "compose.yaml"), "utf8"), { merge: true }) as { services: Record<string, ComposeService> };
  const envFile = readFileSync(path.join(dir, ".env.example"), "utf8");
  const envNames = [...envFile.matchAll(/^([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
  facts.secretKeys.push(...envNames);
  for (const [name, service] of Object.entries(compose.services)) {
    const where = `compose.yaml ${name}`;
    // Every ${NAME} substituted into a service's environment must be in the env file.
    for (const value of Object.values(service.environment ?? {})) {
      for (const [, key] of String(value).matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)) facts.secretRefs.push({ where, key: key! });
    }
    if (service.image?.includes("MLOPS_IMAGE")) {
      facts.containers.push({ where, args: service.command ?? [], env: Object.keys(service.environment ?? {}) });
      for (const volume of service.volumes ?? []) if (volume.startsWith("models:")) facts.modelMounts.push({ where, path: volume.split(":")[1]! });
    }
    for (const mapping of service.ports ?? []) {
      const [published, target] = mapping.split(":").map(Number);
      if (target === 5432) continue;
      facts.ports.push({ where: `${where} published`, port: published! }, { where: `${where} target`, port: target! });
    }
  }
}

function dockerfile(dir: string): DeployFiles["dockerfile"] {
  const lines = readFileSync(path.join(dir, "Dockerfile"), "utf8")
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"));
  const args = (keyword: string) => lines.filter((l) => l.startsWith(`${keyword} `)).map((l) => l.slice(keyword.length + 1).trim());
  const from = args("FROM").map((f) => f.split(/\s+/));
  const copies = args("COPY")
    .filter((c) => !c.startsWith("--from"))
    .map((c) => c.split(/\s+/));
  return {
    stages: from.map((f) => f[2] ?? ""),
    from: from.map((f) => f[0]!),
    runs: args("RUN"),
    user: args("USER").at(-1) ?? "root",
    workdir: args("WORKDIR").at(-1) ?? "/",
    entrypoint: JSON.parse(args("ENTRYPOINT").at(-1) ?? "[]") as string[],
    copies: copies.flatMap((c) => c.slice(0, -1)),
    copyTargets: copies
      .map((c) => `${c.at(-1)}`)
      .concat(
        args("COPY")
          .filter((c) => c.startsWith("--from"))
          .map((c) => c.split(/\s+/)[1]!),
      ),
  };
}

function cmdOf(dir: string): string[] {
  const line = readFileSync(path.join(dir, "Dockerfile"), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("CMD "))
    .at(-1);
  return line ? (JSON.parse(line.slice(4)) as string[]) : [];
}

function exposedPorts(dir: string): number[] {
  return readFileSync(path.join(dir, "Dockerfile"), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("EXPOSE "))
    .map((l) => Number(l.slice(7)));
}

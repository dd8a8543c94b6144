import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { compileState } from '../../src/config/compile.js';
import { silentLogger } from '../../src/log/logger.js';
import { startGatehouse } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';

// The deployment files of docs/deploy.md, checked so they cannot rot: every YAML parses, the
// Kubernetes probes hit real Gatehouse endpoints, containers are non-root on a read-only root
// filesystem, and the embedded gatehouse.yaml validates and compiles.
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(n) ? [p] : [];
  });
}

function load(): Obj[] {
  const out: Obj[] = [];
  const files = yamlFiles('deploy');
  assert.ok(files.length >= 5, `deploy/ holds the manifests: ${files.join(', ')}`);
  for (const f of files) {
    for (const doc of parseAllDocuments(readFileSync(f, 'utf8'))) {
      assert.deepEqual(doc.errors, [], `${f} parses`);
      const v = doc.toJS() as Obj | null;
      if (v) out.push({ ...v, __file: f });
    }
  }
  return out;
}

const docs = load();
const find = (kind: string, name: string): Obj => {
  const d = docs.find((x) => x.kind === kind && x.metadata?.name === name);
  assert.ok(d, `${kind}/${name} exists`);
  return d;
};
const deployment = find('Deployment', 'gatehouse');
const pod = deployment.spec.template.spec as Obj;
const container = (pod.containers as Obj[]).find((c) => c.name === 'gatehouse') as Obj;
const configMap = find('ConfigMap', 'gatehouse-config');
const secret = find('Secret', 'gatehouse-secrets');
const configText = configMap.data['gatehouse.yaml'] as string;
const secretEnv = secret.stringData as Record<string, string>;

function durationSeconds(v: string): number {
  const m = /^(\d+)s$/.exec(v);
  assert.ok(m, `duration ${v}`);
  return Number(m[1]);
}

test('every manifest parses and has apiVersion, kind and a name', () => {
  for (const d of docs) {
    if (d.__file.endsWith('kustomization.yaml')) continue;
    assert.ok(d.apiVersion && d.kind && d.metadata?.name, `${d.__file}: ${d.kind}`);
  }
  const kustomization = docs.find((d) => d.kind === 'Kustomization') as Obj;
  for (const r of kustomization.resources as string[])
    assert.ok(
      docs.some((d) => d.__file === join('deploy/kubernetes', r)),
      `kustomization lists existing ${r}`,
    );
});

test('the gatehouse.yaml in the ConfigMap validates and compiles (dry run) with the Secret as environment', async () => {
  const vars = [...configText.matchAll(/\$\{([A-Z0-9_]+)(?::-[^}]*)?\}/g)].map((m) => m[1] as string);
  assert.ok(vars.length >= 3, 'vars.length >= 3');
  const fromSecret = (container.envFrom as Obj[]).some((e) => e.secretRef?.name === 'gatehouse-secrets');
  assert.ok(fromSecret, 'the container takes its environment from the Secret');
  for (const v of vars) assert.ok(v in secretEnv, `\${${v}} is provided by the Secret`);
  const config = parseConfig(
    configText,
    { ...secretEnv, GATEHOUSE_SESSION_SECRET: 'x'.repeat(44) },
    'configmap:gatehouse.yaml',
  );
  const state = compileState(config, {
    logger: silentLogger(),
    baseDir: '/etc/gatehouse',
    dryRun: true,
  });
  await state.close();
  assert.deepEqual(state.warnings, [], 'no warnings either');
  assert.deepEqual(
    state.routes.map((r) => r.name),
    ['orders-api', 'intranet'],
  );
  assert.equal(config.session?.store, 'redis', 'sessions are shared between replicas');
  assert.equal(config.limits?.store, 'redis', 'limits hold across replicas');
  const redisService = find('Service', 'gatehouse-redis');
  for (const url of [config.session?.redis?.url, config.limits?.redis?.url])
    assert.equal(
      new URL(String(url)).hostname,
      redisService.metadata.name,
      `${url} points at the Redis Service`,
    );
  const listener = config.server.listeners[0];
  assert.equal(listener?.address, '0.0.0.0', 'reachable from the kubelet and the Service');
  const port = (container.ports as Obj[]).find((p) => p.name === 'http');
  assert.equal(port?.containerPort, listener?.port, 'the container port is the listener port');
  const grace = pod.terminationGracePeriodSeconds as number;
  const preStop = Number((container.lifecycle.preStop.exec.command as string[])[1]);
  assert.ok(
    grace > preStop + config.server.shutdown_timeout / 1000,
    'Kubernetes waits for the drain to finish',
  );
});

test('the Deployment runs several non-root replicas on a read-only root filesystem', () => {
  assert.ok((deployment.spec.replicas as number) >= 3, '(deployment.spec.replicas as number) >= 3');
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.notEqual(pod.securityContext.runAsUser, 0);
  const sc = container.securityContext as Obj;
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.deepEqual(sc.capabilities.drop, ['ALL']);
  assert.equal(
    deployment.spec.strategy.rollingUpdate.maxUnavailable,
    0,
    'rolling updates keep full capacity',
  );
  const mounts = (container.volumeMounts as Obj[]).filter((m) => !m.readOnly).map((m) => m.mountPath);
  assert.deepEqual(mounts.sort(), ['/tmp', '/var/lib/gatehouse'], 'the only writable paths are volumes');
  const pdb = find('PodDisruptionBudget', 'gatehouse');
  assert.ok(
    pdb.spec.minAvailable < deployment.spec.replicas,
    'pdb.spec.minAvailable < deployment.spec.replicas',
  );
  assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
  const svc = find('Service', 'gatehouse');
  for (const [k, v] of Object.entries(svc.spec.selector as Record<string, string>))
    assert.equal(deployment.spec.template.metadata.labels[k], v, 'the Service selects the pods');
  assert.ok(
    (container.ports as Obj[]).some((p) => p.name === svc.spec.ports[0].targetPort),
    '(container.ports as Obj[]).some((p) => p.name === svc.spec.ports[0].targetPort)',
  );
  const redis = find('Deployment', 'gatehouse-redis').spec.template.spec as Obj;
  assert.equal(redis.securityContext.runAsNonRoot, true);
  assert.equal(redis.containers[0].securityContext.readOnlyRootFilesystem, true);
});

test('probes, the metrics annotation and the Docker HEALTHCHECK point at real Gatehouse endpoints', async () => {
  const paths = new Set<string>([
    container.readinessProbe.httpGet.path,
    container.livenessProbe.httpGet.path,
    container.startupProbe.httpGet.path,
    deployment.spec.template.metadata.annotations['prometheus.io/path'],
  ]);
  assert.equal(container.readinessProbe.httpGet.path, '/.gatehouse/ready');
  assert.equal(container.livenessProbe.httpGet.path, '/.gatehouse/health');
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const health = /HEALTHCHECK[\s\S]*?(\/\.gatehouse\/[a-z]+)/.exec(dockerfile);
  assert.ok(health, 'the image has a HEALTHCHECK on a Gatehouse endpoint');
  paths.add(health[1] as string);
  const gh = await startGatehouse({});
  try {
    for (const p of paths) {
      const r = await send(gh.url, p as string);
      assert.equal(r.status, 200, `${p} answers 200 on a running gateway`);
    }
  } finally {
    await gh.close();
  }
});

test('the Dockerfile builds in stages and runs as the non-root node user; .dockerignore keeps secrets out', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
  assert.ok(froms.length >= 2 && froms.every((f) => f?.startsWith('node:24-slim')), froms.join());
  assert.match(dockerfile, /npm ci --omit=dev/);
  assert.match(dockerfile, /npm run build/);
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  assert.match(finalStage, /^USER node$/m, 'the final stage drops root');
  assert.match(finalStage, /^EXPOSE 8080$/m);
  const ignore = readFileSync('.dockerignore', 'utf8').split('\n');
  for (const p of ['node_modules', '.git', 'test', '*.pem', '*.env', '.env'])
    assert.ok(ignore.includes(p), `.dockerignore: ${p}`);
});

test('the systemd unit is hardened, reloads with SIGHUP and can write only its state and log directories', () => {
  const unit = readFileSync('deploy/gatehouse.service', 'utf8');
  const kv = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) kv.set(m[1] as string, [...(kv.get(m[1] as string) ?? []), m[2] as string]);
  }
  const one = (k: string) => kv.get(k)?.[0];
  assert.equal(one('NoNewPrivileges'), 'yes');
  assert.equal(one('ProtectSystem'), 'strict');
  assert.equal(one('ProtectHome'), 'yes');
  assert.ok(
    one('DynamicUser') === 'yes' || (one('User') !== undefined && one('User') !== 'root'),
    'not root',
  );
  assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
  assert.match(one('ExecStart') ?? '', / start -c \/etc\/gatehouse\/gatehouse\.yaml$/);
  assert.match(one('ExecStartPre') ?? '', / validate -c /);
  assert.deepEqual(one('ReadWritePaths')?.split(' '), ['/var/lib/gatehouse', '/var/log/gatehouse']);
  assert.equal(one('AmbientCapabilities'), 'CAP_NET_BIND_SERVICE');
  assert.equal(one('CapabilityBoundingSet'), 'CAP_NET_BIND_SERVICE');
  assert.ok(durationSeconds(one('TimeoutStopSec') ?? '') > 30, 'longer than the default shutdown_timeout');
});

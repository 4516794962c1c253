/**
 * `helfy export kubernetes` rendered in a fresh workspace by the built CLI, then checked offline:
 * every object strictly against the Kubernetes 1.37 schemas (kubernetes-validate 1.37.0 --strict),
 * the set through `kubectl kustomize`, and what a schema cannot see: Secret keys, Service
 * selectors, the order of the one-off steps, where secret values may appear, ports and probes
 * against the service catalog.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { proxySecret } from '../../src/apps/env.js';
import { CATALOG, service } from '../../src/stack/catalog.js';
import { BOOTSTRAP_MARKER } from '../../src/export/scripts.js';
import { contents, exportCli, filesIn, provisionKubernetesValidate, pythonOf, readYamlDocs, run, workspace } from './harness.js';

let validate: string;
let ws: { dir: string; secrets: Record<string, string> };
let out: string;
let result: any;
let docs: any[];
const timings: Record<string, number> = {};

const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
const named = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
const podSpecOf = (d: any) => d.spec.template.spec;
const containersOf = (d: any): any[] => [...(podSpecOf(d).initContainers ?? []), ...podSpecOf(d).containers];
const workloads = () => docs.filter((d) => ['Deployment', 'StatefulSet', 'Job'].includes(d.kind));

beforeAll(async () => {
  let t0 = performance.now();
  const p = await provisionKubernetesValidate();
  expect(p.error, 'provisioning kubernetes-validate (infra/kubernetes-validate.sh) failed').toBeUndefined();
  validate = p.bin!;
  timings.provisionMs = performance.now() - t0;
  ws = await workspace('shop');
  out = join(ws.dir, 'deploy', 'k8s');
  t0 = performance.now();
  const r = await exportCli(ws.dir, ['kubernetes', '--out', 'deploy/k8s', '--registry', 'registry.example.com:5000/acme', '--tag', '1.4.0', '--namespace', 'helfy-staging']);
  timings.exportMs = performance.now() - t0;
  expect(r.code, r.stderr).toBe(0);
  result = r.json;
  docs = await readYamlDocs(pythonOf(validate), filesIn(out).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').map((f) => join(out, f)));
}, 600_000);

describe('helfy export kubernetes', () => {
  it('writes the manifests and a kustomization listing every one of them', async () => {
    expect(result.target).toBe('kubernetes');
    expect(result.namespace).toBe('helfy-staging');
    expect(filesIn(out)).toEqual([...result.files, '.helfy-export.json'].sort());
    const [kustomization] = await readYamlDocs(pythonOf(validate), [join(out, 'kustomization.yaml')]);
    expect(kustomization.kind).toBe('Kustomization');
    expect(kustomization.namespace).toBe('helfy-staging');
    expect([...kustomization.resources].sort()).toEqual(result.files.filter((f: string) => f !== 'kustomization.yaml').sort());
    expect(result.objects).toHaveLength(docs.length);
    for (const d of docs) expect(d.metadata.namespace ?? 'helfy-staging').toBe('helfy-staging');
  });

  it('every object validates strictly against the Kubernetes 1.37 schemas (kubernetes-validate --strict)', async () => {
    const files = result.files.filter((f: string) => f !== 'kustomization.yaml').map((f: string) => join(out, f));
    const t0 = performance.now();
    const r = await run(validate, ['--strict', '-k', '1.37.0', ...files]);
    timings.validateMs = performance.now() - t0;
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const passed = r.stdout.split('\n').filter((l) => / passed for resource /.test(l));
    expect(passed).toHaveLength(docs.length);
    expect(docs.length).toBeGreaterThanOrEqual(20);
    console.log(`kubernetes export: ${docs.length} objects in ${files.length} files validated strictly in ${Math.round(timings.validateMs!)} ms (export ${Math.round(timings.exportMs!)} ms, provisioning ${Math.round(timings.provisionMs!)} ms)`);
  });

  it('--strict is strict: an unknown field fails', async () => {
    const web = structuredClone(named('Deployment', 'web'));
    delete web.__file;
    web.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    const f = join(ws.dir, 'bad.yaml');
    writeFileSync(f, JSON.stringify(web));
    const r = await run(validate, ['--strict', f]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/imagePullPolicyy/);
  });

  it('kubectl kustomize renders the set, and what it renders validates too', async () => {
    const r = await run('kubectl', ['kustomize', out]);
    expect(r.code, r.stderr).toBe(0);
    const rendered = join(ws.dir, 'rendered.yaml');
    writeFileSync(rendered, r.stdout);
    const all = await readYamlDocs(pythonOf(validate), [rendered]);
    expect(all).toHaveLength(docs.length);
    for (const d of all) if (d.kind !== 'Namespace') expect(d.metadata.namespace).toBe('helfy-staging');
    const v = await run(validate, ['--strict', rendered]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });

  it('every Secret key an object references exists in the Secret, and the Secret holds the .env values', () => {
    const secret = named('Secret', 'helfy-secrets');
    expect(secret.type).toBe('Opaque');
    const keys = Object.keys(secret.stringData);
    expect(keys.sort()).toEqual([...result.secretKeys].sort());
    const refs = workloads().flatMap((w) => containersOf(w).flatMap((c) => (c.env ?? []).filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.valueFrom.secretKeyRef)));
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      expect(ref.name).toBe('helfy-secrets');
      expect(keys).toContain(ref.key);
    }
    for (const [k, v] of Object.entries(ws.secrets)) if (keys.includes(k)) expect(secret.stringData[k]).toBe(v);
    expect(secret.stringData.HELFY_PROXY_SECRET).toBe(proxySecret({ api: { jwtSecret: ws.secrets.HELFY_JWT_SECRET! } }));
    // $(KEY) in a value refers to a variable defined before it in the same container.
    for (const w of workloads()) {
      for (const c of containersOf(w)) {
        const defined: string[] = [];
        for (const e of c.env ?? []) {
          for (const [, ref] of String(e.value ?? '').matchAll(/(?<!\$)\$\(([A-Z0-9_]+)\)/g)) expect(defined, `${w.metadata.name}/${c.name} ${e.name}`).toContain(ref);
          defined.push(e.name);
        }
      }
    }
  });

  it('no secret value appears in any file but the Secret, nor in the output', () => {
    const files = contents(out);
    const values = [...Object.values(ws.secrets), proxySecret({ api: { jwtSecret: ws.secrets.HELFY_JWT_SECRET! } })];
    for (const [file, text] of Object.entries(files)) {
      if (file === 'secret.yaml') continue;
      for (const v of values) expect(text.includes(v), `${file} holds a secret value`).toBe(false);
    }
    for (const cm of byKind('ConfigMap')) for (const v of values) expect(JSON.stringify(cm.data).includes(v)).toBe(false);
    for (const v of values) expect(JSON.stringify(result).includes(v)).toBe(false);
  });

  it('every Service selects the pods of a workload, on a port the pods declare', () => {
    const services = byKind('Service');
    expect(services.map((s) => s.metadata.name).sort()).toEqual(CATALOG.filter((d) => d.ports.length && !d.profile).map((d) => d.name).sort());
    for (const s of services) {
      const target = workloads().filter((w) => w.kind !== 'Job').filter((w) => Object.entries(s.spec.selector).every(([k, v]) => w.spec.template.metadata.labels[k] === v));
      expect(target, `Service ${s.metadata.name}`).toHaveLength(1);
      expect(Object.entries(target[0].spec.selector.matchLabels).every(([k, v]) => s.spec.selector[k] === v)).toBe(true);
      const names = target[0].spec.template.spec.containers.flatMap((c: any) => c.ports.map((p: any) => p.name));
      for (const p of s.spec.ports) expect(names).toContain(p.targetPort);
    }
  });

  it('ports and probes come from the catalog (api readiness = /health/ready; Temporal: gRPC health)', () => {
    for (const def of CATALOG.filter((d) => d.kind === 'daemon' && !d.profile)) {
      const w = docs.find((d) => ['Deployment', 'StatefulSet'].includes(d.kind) && d.metadata.name === def.name);
      expect(w, def.name).toBeTruthy();
      const c = podSpecOf(w).containers[0];
      expect(c.ports.filter((p: any) => p.name !== 'health').map((p: any) => p.containerPort)).toEqual(def.ports.map((p) => p.container));
      const svc = named('Service', def.name);
      if (def.ports.length) expect(svc.spec.ports.map((p: any) => p.port)).toEqual(def.ports.map((p) => p.container));
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(c[probe], `${def.name} ${probe}`).toBeTruthy();
      if (def.healthcheck) {
        const hc = def.healthcheck;
        expect(c.startupProbe.periodSeconds).toBe(hc.intervalS);
        expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(hc.startPeriodS);
        const url = /https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)(\/\S*?)?['\s]/.exec(`${hc.test.join(' ')} `);
        if (url) expect(c.livenessProbe.httpGet).toEqual({ port: Number(url[1]), path: url[2] ?? '/' });
        else expect(c.livenessProbe.exec.command.join(' ')).toContain(hc.test.slice(1).join(' ').replace(/\$\$/g, '$'));
      }
    }
    const api = podSpecOf(named('Deployment', 'api')).containers[0];
    expect(api.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 3000 });
    expect(podSpecOf(named('Deployment', 'web')).containers[0].readinessProbe.httpGet.path).toBe('/health');
    expect(podSpecOf(named('Deployment', 'temporal')).containers[0].readinessProbe.grpc).toEqual({ port: 7233, service: 'temporal.api.workflowservice.v1.WorkflowService' });
    expect(podSpecOf(named('StatefulSet', 'neo4j')).containers[0].startupProbe.httpGet).toEqual({ path: '/', port: 7474 });
  });

  it('PostgreSQL: a StatefulSet on timescaledb-ha with its data path, uid 1000 and a volume claim template', () => {
    const pg = named('StatefulSet', 'postgres');
    const spec = podSpecOf(pg);
    expect(spec.containers[0].image).toBe('timescale/timescaledb-ha:pg16');
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 });
    expect(spec.containers[0].volumeMounts).toEqual([{ name: 'pgdata', mountPath: '/home/postgres/pgdata' }]);
    expect(pg.spec.volumeClaimTemplates.map((v: any) => v.metadata.name)).toEqual(['pgdata']);
    expect(pg.spec.serviceName).toBe('postgres');
    expect(spec.containers[0].env.find((e: any) => e.name === 'POSTGRES_PASSWORD').valueFrom.secretKeyRef.key).toBe('HELFY_POSTGRES_PASSWORD');
    const neo = named('StatefulSet', 'neo4j');
    const n = podSpecOf(neo).containers[0];
    expect(n.env[0]).toEqual({ name: 'HELFY_NEO4J_PASSWORD', valueFrom: { secretKeyRef: { name: 'helfy-secrets', key: 'HELFY_NEO4J_PASSWORD' } } });
    expect(n.env.find((e: any) => e.name === 'NEO4J_AUTH').value).toBe('neo4j/$(HELFY_NEO4J_PASSWORD)');
    expect(neo.spec.volumeClaimTemplates.map((v: any) => v.metadata.name)).toEqual(service('neo4j').volumes.map((v) => v.name));
  });

  it('non-root with resource requests everywhere; images <registry>/<name>:<tag> for the apps', () => {
    for (const w of workloads()) {
      const spec = podSpecOf(w);
      expect(spec.securityContext.runAsNonRoot, w.metadata.name).toBe(true);
      expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const c of containersOf(w)) {
        expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        expect(c.resources.requests.cpu && c.resources.requests.memory, `${w.metadata.name}/${c.name}`).toBeTruthy();
      }
    }
    expect(podSpecOf(named('Deployment', 'api')).containers[0].image).toBe('registry.example.com:5000/acme/api:1.4.0');
    expect(podSpecOf(named('Deployment', 'worker')).containers[0].image).toBe('registry.example.com:5000/acme/api:1.4.0');
    expect(podSpecOf(named('Deployment', 'web')).containers[0].image).toBe('registry.example.com:5000/acme/web:1.4.0');
    expect(result.images).toMatchObject({ api: 'registry.example.com:5000/acme/api:1.4.0', web: 'registry.example.com:5000/acme/web:1.4.0' });
  });

  it('the migrations run after the bootstrap: they wait for the mark the bootstrap sets last, then PostgreSQL, then Neo4j', () => {
    const scripts = named('ConfigMap', 'helfy-scripts').data;
    const sql: string = scripts['bootstrap.sql'];
    // The mark is the bootstrap's last statement.
    const lastStatement = sql.trim().split('\n').filter((l) => !l.startsWith('\\echo') && !l.startsWith('--')).at(-1);
    expect(lastStatement).toBe(`COMMENT ON DATABASE helfy_app IS '${BOOTSTRAP_MARKER}';`);
    expect(scripts['wait-for-bootstrap.sh']).toContain(BOOTSTRAP_MARKER);
    for (const role of ['helfy_owner', 'helfy_api', 'helfy_temporal']) expect(sql).toMatch(new RegExp(`ALTER ROLE ${role} WITH LOGIN NOSUPERUSER`));
    for (const db of ['helfy_app', 'helfy_temporal', 'helfy_temporal_visibility']) expect(sql).toContain(`CREATE DATABASE ${db} OWNER`);
    expect(sql).not.toMatch(/PASSWORD '(?!')/);
    const migrations = podSpecOf(named('Job', 'migrations'));
    expect(migrations.initContainers.map((c: any) => c.name)).toEqual(['wait-for-bootstrap', 'migrate-postgres']);
    expect(migrations.containers.map((c: any) => c.name)).toEqual(['migrate-neo4j']);
    expect(migrations.initContainers[0].command).toEqual(['sh', '/helfy/scripts/wait-for-bootstrap.sh']);
    const schema = podSpecOf(named('Job', 'temporal-schema'));
    expect(schema.initContainers.map((c: any) => c.name)).toEqual(['wait-for-bootstrap']);
    expect(scripts['temporal-schema.sh']).toMatch(/until sh \/helfy\/scripts\/temporal-schema-once\.sh/);
    expect(podSpecOf(named('Deployment', 'temporal')).initContainers.map((c: any) => c.name)).toEqual(['wait-for-temporal-schema']);
    for (const j of byKind('Job')) expect(podSpecOf(j).restartPolicy).toBe('Never');
    // Every migration file is shipped and applied in journal order.
    const pgFiles = Object.keys(named('ConfigMap', 'helfy-migrations-postgres').data);
    const order = [...scripts['migrate-postgres.sql'].matchAll(/\\i \/helfy\/migrations\/postgres\/(\S+)/g)].map((m) => m[1]);
    expect(order).toEqual(pgFiles.sort());
    expect(Object.keys(named('ConfigMap', 'helfy-migrations-neo4j').data).length).toBeGreaterThan(0);
  });

  it('--secrets external: no Secret is written and no secret value appears anywhere; objects still reference helfy-secrets', async () => {
    const r = await exportCli(ws.dir, ['kubernetes', '--out', 'deploy/k8s-external', '--secrets', 'external']);
    expect(r.code, r.stderr).toBe(0);
    const dir = join(ws.dir, 'deploy', 'k8s-external');
    expect(filesIn(dir)).not.toContain('secret.yaml');
    const all = Object.values(contents(dir)).join('\n') + r.stdout + r.stderr;
    for (const v of [...Object.values(ws.secrets), proxySecret({ api: { jwtSecret: ws.secrets.HELFY_JWT_SECRET! } })]) expect(all.includes(v)).toBe(false);
    expect(all).toContain('name: "helfy-secrets"');
    expect(r.json.namespace).toBe('shop');
    expect(r.json.notes.join('\n')).toContain('create the Secret helfy-secrets');
  });
});

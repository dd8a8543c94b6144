import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { parse, stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import { JWKS_PATH } from '../../src/identity/feature.js';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import { send, type Reply } from '../helpers/http.js';
import { ASPNET_DIR, buildAll, checkXml, makeApp, startHost, type Build, type MonoHost } from './mono.js';

// docs/iis.md works as written: every ```xml block parses with .NET's XmlDocument; each web.config
// that registers the module is loaded by the Mono test host behind a real Gatehouse configured
// with the guide's own route identity (RS256 assertion, roles, group filter, extra claims), the
// JWKS from the URL or from `gatehouse keys export` (jwks_file). Mono runs only the classic
// pipeline: <system.webServer> (modules, ipSecurity) and site bindings are checked as XML.
// (The guide's ```yaml blocks are validated by test/docs/config-blocks.test.ts.)

const GUIDE = join(ASPNET_DIR, '../../docs/iis.md');
const MODULE_TYPE = 'Gatehouse.AspNet.GatehouseAuthModule, Gatehouse.AspNet';
const ROLE_TYP = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
const NAMEID_TYP = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier';
const UPN_TYP = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn';
const OID_TYP = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const TID_TYP = 'http://schemas.microsoft.com/identity/claims/tenantid';

const guide = readFileSync(GUIDE, 'utf8');
const xmlBlocks = [...guide.matchAll(/^```xml\n([\s\S]*?)^```/gm)].map((m) => m[1] as string);
const yamlBlock = [...guide.matchAll(/^```yaml\n([\s\S]*?)^```/gm)]
  .map((m) => m[1] as string)
  .find((b) => !b.startsWith('# fragment'));
const webConfigs = xmlBlocks.filter((b) => b.includes('<configuration>') && b.includes(MODULE_TYPE));

interface GuideConfig {
  server: { external_url: string };
  routes: {
    name: string;
    identity: { assertion: Record<string, unknown> & { audience: string; groups: string[] } };
  }[];
}
const doc = parse(yamlBlock ?? '') as GuideConfig;
const routeIdentity = doc.routes.find((r) => r.name === 'intranet')!.identity;
const GROUP = routeIdentity.assertion.groups[0] as string;

let dir: string;
let build: Build;
let idp: IdpServer;
let gh: TestGateway;
let host: MonoHost;
let jwksFile: string;
let exportOut: string;
const apps: Record<string, string> = {};

interface Whoami {
  authenticated: boolean;
  name: string | null;
  authenticationType: string | null;
  isInRole: Record<string, boolean>;
  authorize: Record<string, boolean>;
  claims: { type: string; value: string }[];
}

function direct(path: string, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: host.port, path, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          json: <T>() => JSON.parse(body) as T,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** The XML value of an appSettings key in a web.config block. */
const setting = (block: string, key: string) =>
  new RegExp(`key="gatehouse:${key}" value="([^"]*)"`).exec(block)?.[1];

before(
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-iis-guide-'));
    build = buildAll(join(dir, 'build'), { only: 'runtime' });
    idp = await startIdp();
    const hostPort = await freePort();
    // The guide's route identity, as written; a test IdP stands in for Entra ID (preset entra).
    const config = {
      server: { external_url: doc.server.external_url },
      providers: {
        entra: { issuer: idp.issuer, preset: 'entra', audiences: [idp.audience], jwks_uri: idp.jwksUri },
      },
      identity: { assertion: { key_dir: join(dir, 'assertion-keys') } },
      upstreams: { iis: { url: `http://127.0.0.1:${hostPort}` } },
      routes: [
        {
          match: { path: '/' },
          upstream: 'iis',
          auth: 'bearer',
          allow: 'authenticated',
          identity: routeIdentity,
        },
      ],
    };
    gh = await startGatehouse(config, { baseDir: dir });
    // The air-gapped path: the JWKS exported from the key dir Gatehouse just filled.
    const yamlFile = join(dir, 'gatehouse.yaml');
    writeFileSync(
      yamlFile,
      stringify({ ...config, server: { ...config.server, listeners: [{ address: '127.0.0.1', port: 0 }] } }),
    );
    jwksFile = join(dir, 'jwks.json');
    let err = '';
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        err += c.toString();
        cb();
      },
    });
    const code = await main(['keys', 'export', '-c', yamlFile, '--out', jwksFile], {
      stdout: sink,
      stderr: sink,
    });
    exportOut = `${code}: ${err}`;
    webConfigs.forEach((block, i) => {
      let xml = block;
      const url = setting(block, 'jwks_url');
      const file = setting(block, 'jwks_file');
      if (url !== undefined) xml = xml.replace(url, `${gh.url}${JWKS_PATH}`);
      if (file !== undefined) xml = xml.replace(file, jwksFile);
      xml = xml.replace(
        '</system.web>',
        '  <httpHandlers><add verb="*" path="whoami" type="Gatehouse.TestApp.Whoami, Gatehouse.TestApp" /></httpHandlers>\n  </system.web>',
      );
      apps[`/guide${i}`] = makeApp(build, join(dir, `guide${i}`), {}, xml);
    });
    host = await startHost(build, apps, hostPort);
  },
  { timeout: 300_000 },
);

after(async () => {
  await host?.close();
  await gh?.close();
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('docs/iis.md: every xml block is well-formed XML with the elements the guide describes (IIS-only ones checked as XML, Mono has no IIS)', () => {
  assert.equal(xmlBlocks.length, 4, 'two web.config files, ipSecurity, a site binding');
  assert.equal(webConfigs.length, 2);
  const files = xmlBlocks.map((b, i) => {
    const f = join(dir, `block${i}.xml`);
    writeFileSync(f, b);
    return f;
  });
  const parsed = checkXml(build, files);
  const lines = files.map((f) => {
    const r = parsed.get(f);
    assert.ok(r?.ok, `${f}: ${r?.lines.join(' ')}`);
    return r.lines;
  });
  for (const [i, b] of xmlBlocks.entries()) {
    const l = lines[i] as string[];
    if (!webConfigs.includes(b)) continue;
    assert.ok(
      l.includes(`A configuration/system.webServer/modules/add@type=${MODULE_TYPE}`),
      'integrated pipeline',
    );
    assert.ok(
      l.includes(`A configuration/system.web/httpModules/add@type=${MODULE_TYPE}`),
      'classic pipeline',
    );
    assert.ok(
      l.includes('A configuration/system.webServer/validation@validateIntegratedModeConfiguration=false'),
      "l.includes('A configuration/system.webServer/validation@validateIntegratedModeConfiguration=false')",
    );
    assert.ok(
      l.includes('A configuration/system.web/authentication@mode=None'),
      "l.includes('A configuration/system.web/authentication@mode=None')",
    );
    assert.ok(!l.some((x) => x.includes('@preCondition=')), 'no managedHandler precondition');
    assert.equal(setting(b, 'issuer'), doc.server.external_url, 'gatehouse:issuer = server.external_url');
    assert.equal(
      setting(b, 'audience'),
      routeIdentity.assertion.audience,
      'gatehouse:audience = the route audience',
    );
    assert.equal(
      setting(b, 'algorithms'),
      routeIdentity.assertion.alg,
      'gatehouse:algorithms = the route alg',
    );
  }
  const ip = lines.find((l) => l.includes('E configuration/system.webServer/security/ipSecurity'));
  assert.ok(ip, 'an <ipSecurity> block');
  assert.ok(
    ip.includes('A configuration/system.webServer/security/ipSecurity@allowUnlisted=false'),
    "ip.includes('A configuration/system.webServer/security/ipSecurity@allowUnlisted=false')",
  );
  assert.ok(
    ip.filter((x) => /ipSecurity\/add@allowed=true$/.test(x)).length >= 1,
    'ip.filter((x) => /ipSecurity\\/add@allowed=true$/.test(x)).length >= 1',
  );
  const site = lines.find((l) => l.includes('E site/bindings/binding'));
  assert.ok(site, 'a site binding block');
  assert.ok(
    site.some((x) => /^A site\/bindings\/binding@bindingInformation=127\.0\.0\.1:\d+:$/.test(x)),
    'site.some((x) => /^A site\\/bindings\\/binding@bindingInformation=127\\.0\\.0\\.1:\\d+:$/.test(x))',
  );
  // A broken block would be reported, not skipped.
  const bad = join(dir, 'bad.xml');
  writeFileSync(bad, '<configuration><system.web></configuration>');
  assert.equal(checkXml(build, [bad]).get(bad)?.ok, false);
});

test('docs/iis.md: each web.config loaded by the Mono host refuses a direct request (the module is active)', async () => {
  for (const vpath of Object.keys(apps)) {
    const none = await direct(`${vpath}/whoami`, {});
    assert.equal(none.status, 401, `${vpath}: ${none.body}`);
    assert.match(none.body, /no X-Gatehouse-Assertion header/);
    const forged = await direct(`${vpath}/whoami`, { 'X-Gatehouse-Assertion': 'eyJhbGciOiJub25lIn0.e30.' });
    assert.equal(forged.status, 401, `${vpath}: ${forged.body}`);
  }
});

test('docs/iis.md: through Gatehouse with the guide route identity, the app sees the claim mapping the guide documents (jwks_url and jwks_file)', async () => {
  assert.match(exportOut, /^0: gatehouse keys export: wrote 1 public key to /);
  const alice = {
    oid: 'a0a0a0a0-0000-4000-8000-000000000001',
    tid: 'tenant-1',
    scp: 'openid',
    email: 'alice@corp.example.com',
    upn: 'alice@corp.example.com',
    preferred_username: 'alice@corp.example.com',
    name: 'Alice',
    roles: ['Intranet.Admins'],
    groups: [GROUP, 'another-group-not-filtered-in'],
  };
  const bob = {
    oid: 'b0b0',
    tid: 'tenant-1',
    scp: 'openid',
    upn: 'bob@corp.example.com',
    name: 'Bob',
    groups: [],
  };
  for (const vpath of Object.keys(apps)) {
    const q = `?role=Intranet.Admins&role=${GROUP}&role=another-group-not-filtered-in`;
    const r = await send(gh.url, `${vpath}/whoami${q}`, {
      headers: { authorization: `Bearer ${await idp.token(alice)}` },
    });
    assert.equal(r.status, 200, `${vpath}: ${r.body}`);
    const w = r.json<Whoami>();
    assert.equal(w.name, 'alice@corp.example.com', 'Name = email');
    assert.equal(w.authenticationType, 'Gatehouse');
    assert.deepEqual(w.isInRole, {
      admins: false,
      'Intranet.Admins': true,
      [GROUP]: true,
      'another-group-not-filtered-in': false,
    });
    assert.equal(w.authorize['Intranet.Admins'], true, '[Authorize(Roles = "Intranet.Admins")]');
    const has = (type: string, value: string) => w.claims.some((c) => c.type === type && c.value === value);
    assert.ok(has(NAMEID_TYP, alice.oid), 'sub (= oid with preset entra) → nameidentifier');
    assert.ok(has(ROLE_TYP, 'Intranet.Admins'), 'roles → role');
    assert.ok(has('groups', GROUP), 'groups (object ids) → groups');
    assert.ok(has(TID_TYP, 'tenant-1'), 'tid → tenantid');
    assert.ok(has(OID_TYP, alice.oid), 'claims: [oid] → objectidentifier');
    assert.ok(has(UPN_TYP, alice.upn), 'claims: [upn] → upn');
    assert.ok(
      has('preferred_username', alice.preferred_username),
      "has('preferred_username', alice.preferred_username)",
    );
    assert.ok(has('iss', doc.server.external_url), "has('iss', doc.server.external_url)");

    const b = (
      await send(gh.url, `${vpath}/whoami`, { headers: { authorization: `Bearer ${await idp.token(bob)}` } })
    ).json<Whoami>();
    assert.equal(
      b.name,
      'bob@corp.example.com',
      'no email claim: email ← upn (preset entra), so Name is the UPN',
    );
    assert.equal(b.isInRole.admins, false);
  }
});

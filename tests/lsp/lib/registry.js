'use strict';
// A real docker-registry on a free loopback port, with its own config and
// storage under a temporary directory, and a busybox base image pushed
// into it by tests/builder/lib.sh's make_busybox (busybox-static, umoci,
// skopeo: offline).  For the build tests (build.test.js).

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const http = require('node:http');

const LIB_SH = path.resolve(__dirname, '../../builder/lib.sh');

// The tools the build tests need; the names of those missing.
function missingTools() {
  const tools = ['docker-registry', 'umoci', 'skopeo', 'busybox',
                 'htpasswd'];
  return tools.filter((t) => {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/v2/' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 || res.statusCode === 401);
    });
    req.on('error', () => resolve(false));
  });
}

// Starts a registry in dir; resolves with { host, stop() }.  With auth
// ({ user, password }), it asks for htpasswd Basic credentials.
async function startRegistry(dir, auth) {
  const port = await freePort();
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(config, [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${path.join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: dockwright-test',
    ...(auth ? ['auth:', '  htpasswd:', '    realm: dw-test',
                `    path: ${path.join(dir, 'htpasswd')}`] : []),
    '',
  ].join('\n'));
  if (auth)
    fs.writeFileSync(path.join(dir, 'htpasswd'), execFileSync('htpasswd',
      ['-Bbn', auth.user, auth.password], { encoding: 'utf8' }));
  const log = fs.openSync(path.join(dir, 'registry.log'), 'w');
  const proc = spawn('docker-registry', ['serve', config],
    { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  for (let i = 0; i < 100; i++) {
    if (await ping(port)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!(await ping(port))) {
    proc.kill('SIGKILL');
    throw new Error('docker-registry did not start:\n' +
                    fs.readFileSync(path.join(dir, 'registry.log'), 'utf8'));
  }
  const host = `127.0.0.1:${port}`;
  return {
    host,
    stop() { proc.kill('SIGTERM'); },
  };
}

// A Docker config directory with Basic credentials for host.
function dockerConfig(dir, host, user, password) {
  fs.mkdirSync(dir, { recursive: true });
  const auth = Buffer.from(`${user}:${password}`).toString('base64');
  fs.writeFileSync(path.join(dir, 'config.json'),
    JSON.stringify({ auths: { [host]: { auth } } }));
  return dir;
}

// Pushes <host>/busybox:latest (tests/builder/lib.sh's make_busybox).
function pushBusybox(host) {
  execFileSync('bash', ['-c', `source "${LIB_SH}"; make_busybox "$1"`, '_',
                        host], { stdio: ['ignore', 'ignore', 'pipe'] });
}

// skopeo inspect of an image in the registry; the parsed JSON.
function inspect(ref) {
  return JSON.parse(execFileSync('skopeo',
    ['inspect', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' }));
}

module.exports = { missingTools, startRegistry, pushBusybox, inspect,
                   dockerConfig };

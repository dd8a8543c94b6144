// Baseline "the cheapest Node proxy": each client connection is piped, byte for byte, to a
// keep-alive connection of its own to the upstream. No HTTP parsing, no header rewriting, no
// logging: what Node's sockets (and, with a certificate, its TLS) cost per request on this core,
// the ceiling of any proxy written for Node. Not a usable proxy (the Host header goes through
// unchanged, one upstream connection per client).
// Usage: node pipe.mjs <port> <upstream-url> [<cert.pem> <key.pem>]
import { connect, createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';

const [port, upstream, cert, key] = process.argv.slice(2);
const u = new URL(upstream);

function onConnection(client) {
  const up = connect({ host: u.hostname, port: Number(u.port), noDelay: true });
  client.setNoDelay(true);
  client.pipe(up);
  up.pipe(client);
  const close = () => {
    client.destroy();
    up.destroy();
  };
  for (const s of [client, up]) {
    s.on('error', close);
    s.on('close', close);
  }
}

const server = cert
  ? createTlsServer(
      { cert: readFileSync(cert), key: readFileSync(key), ALPNProtocols: ['http/1.1'] },
      onConnection,
    )
  : createServer(onConnection);
server.listen(Number(port), '127.0.0.1', () => process.send?.('ready'));

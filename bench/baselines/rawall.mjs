// Experiment: raw net server (minimal parser) + raw keep-alive upstream sockets. Upper bound only.
import { createServer, connect } from 'node:net';

const [port, upstream] = process.argv.slice(2);
const u = new URL(upstream);
const idle = [];
function getConn() {
  const c = idle.pop();
  if (c) return c;
  const s = connect({ host: u.hostname, port: Number(u.port), noDelay: true });
  s.on('error', () => {});
  s.on('data', (d) => s._onData(d));
  return s;
}
createServer({ noDelay: true }, (cs) => {
  let buf = null;
  cs.on('error', () => {});
  cs.on('data', (d) => {
    buf = buf ? Buffer.concat([buf, d]) : d;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const headText = buf.latin1Slice(0, end);
    buf = buf.length > end + 4 ? buf.subarray(end + 4) : null;
    const lines = headText.split('\r\n');
    const [method, target] = lines[0].split(' ');
    let head = `${method} ${target} HTTP/1.1\r\nhost: ${u.host}\r\n`;
    for (let i = 1; i < lines.length; i++) {
      const l = lines[i];
      const ln = l.slice(0, l.indexOf(':')).toLowerCase();
      if (ln === 'host' || ln === 'connection') continue;
      head += l + '\r\n';
    }
    const s = getConn();
    s.write(head + '\r\n', 'latin1');
    let rb = null;
    s._onData = (d2) => {
      rb = rb ? Buffer.concat([rb, d2]) : d2;
      const e = rb.indexOf('\r\n\r\n');
      if (e < 0) return;
      const rl = rb.latin1Slice(0, e).split('\r\n');
      let cl = 0;
      let out = rl[0] + '\r\n';
      for (let i = 1; i < rl.length; i++) {
        const l = rl[i];
        const ln = l.slice(0, l.indexOf(':')).toLowerCase();
        if (ln === 'content-length') cl = Number(l.slice(l.indexOf(':') + 1));
        if (ln === 'connection' || ln === 'keep-alive') continue;
        out += l + '\r\n';
      }
      if (rb.length - e - 4 < cl) return;
      cs.write(out + '\r\n' + rb.latin1Slice(e + 4, e + 4 + cl), 'latin1');
      idle.push(s);
    };
  });
}).listen(Number(port), '127.0.0.1', () => process.send?.('ready'));

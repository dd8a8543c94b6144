// Experiment: node:http server + raw keep-alive sockets to the upstream with a minimal parser.
import { createServer } from 'node:http';
import { connect } from 'node:net';

const [port, upstream] = process.argv.slice(2);
const u = new URL(upstream);
const idle = [];
function getConn(cb) {
  const c = idle.pop();
  if (c) return cb(c);
  const s = connect({ host: u.hostname, port: Number(u.port), noDelay: true });
  s.on('error', () => {});
  s.on('data', (d) => s._onData(d));
  cb(s);
}
createServer((req, res) => {
  getConn((s) => {
    let head = `${req.method} ${req.url} HTTP/1.1\r\nhost: ${u.host}\r\n`;
    const h = req.rawHeaders;
    for (let i = 0; i < h.length; i += 2) {
      const n = h[i].toLowerCase();
      if (n === 'host' || n === 'connection') continue;
      head += h[i] + ': ' + h[i + 1] + '\r\n';
    }
    s.write(head + '\r\n', 'latin1');
    let buf = null;
    s._onData = (d) => {
      buf = buf ? Buffer.concat([buf, d]) : d;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = buf.latin1Slice(0, end).split('\r\n');
      const status = Number(lines[0].slice(9, 12));
      let cl = 0;
      const out = [];
      for (let i = 1; i < lines.length; i++) {
        const l = lines[i];
        const c = l.indexOf(':');
        const n = l.slice(0, c);
        const v = l.slice(c + 1).trim();
        const ln = n.toLowerCase();
        if (ln === 'content-length') cl = Number(v);
        if (ln === 'connection' || ln === 'keep-alive') continue;
        out.push(n, v);
      }
      if (buf.length - end - 4 < cl) return;
      const body = buf.subarray(end + 4, end + 4 + cl);
      res.writeHead(status, out);
      res.end(body);
      idle.push(s);
    };
  });
}).listen(Number(port), '127.0.0.1', () => process.send?.('ready'));

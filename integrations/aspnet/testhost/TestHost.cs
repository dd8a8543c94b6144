using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Threading;
using System.Web.Hosting;

namespace Gatehouse.TestHost
{
    /// <summary>
    /// A minimal System.Web host for the Mono tests (Debian's xsp4 is broken on Mono 6.8):
    /// HttpListener on 127.0.0.1 in the default AppDomain; each application runs in its own
    /// AppDomain (ApplicationHost.CreateApplicationHost) and gets requests as buffered, serialisable
    /// copies. This assembly must also be in each application's bin/.
    /// Usage: mono GatehouseTestHost.exe &lt;port&gt; /vpath=physicalDir [/vpath2=dir2 …]
    /// Prints "listening &lt;port&gt;" when every application answered a warm-up request.
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            int port = int.Parse(args[0]);
            var apps = new List<KeyValuePair<string, AppHost>>();
            for (int i = 1; i < args.Length; i++)
            {
                int eq = args[i].IndexOf('=');
                string vpath = args[i].Substring(0, eq).TrimEnd('/'), dir = Path.GetFullPath(args[i].Substring(eq + 1));
                var host = (AppHost)ApplicationHost.CreateApplicationHost(typeof(AppHost), vpath.Length == 0 ? "/" : vpath, dir);
                apps.Add(new KeyValuePair<string, AppHost>(vpath, host));
            }
            apps.Sort((a, b) => b.Key.Length - a.Key.Length);
            var listener = new HttpListener();
            listener.Prefixes.Add("http://127.0.0.1:" + port + "/");
            listener.Start();
            Console.Out.WriteLine("listening " + port);
            Console.Out.Flush();
            for (;;)
            {
                HttpListenerContext ctx = listener.GetContext();
                ThreadPool.QueueUserWorkItem(_ => Serve(ctx, apps));
            }
        }

        static void Serve(HttpListenerContext ctx, List<KeyValuePair<string, AppHost>> apps)
        {
            var res = ctx.Response;
            try
            {
                var req = ctx.Request;
                var d = new RequestData
                {
                    Method = req.HttpMethod,
                    RawUrl = req.RawUrl,
                    Version = "HTTP/" + req.ProtocolVersion,
                    RemoteAddress = req.RemoteEndPoint.Address.ToString(),
                    RemotePort = req.RemoteEndPoint.Port,
                    LocalAddress = req.LocalEndPoint.Address.ToString(),
                    LocalPort = req.LocalEndPoint.Port,
                };
                foreach (string name in req.Headers.AllKeys) d.Headers.Add(new[] { name, req.Headers[name] });
                using (var ms = new MemoryStream()) { req.InputStream.CopyTo(ms); d.Body = ms.ToArray(); }
                int q = d.RawUrl.IndexOf('?');
                d.Path = Uri.UnescapeDataString(q < 0 ? d.RawUrl : d.RawUrl.Substring(0, q));
                d.Query = q < 0 ? "" : d.RawUrl.Substring(q + 1);
                AppHost app = null;
                foreach (var a in apps)
                    if (d.Path == a.Key || d.Path.StartsWith(a.Key + "/", StringComparison.OrdinalIgnoreCase)) { app = a.Value; break; }
                if (app == null) { res.StatusCode = 404; res.Close(); return; }
                ResponseData r = app.Process(d);
                res.StatusCode = r.Status;
                foreach (var h in r.Headers)
                {
                    string n = h[0].ToLowerInvariant();
                    if (n == "content-length" || n == "transfer-encoding" || n == "connection" || n == "keep-alive") continue;
                    res.AddHeader(h[0], h[1]);
                }
                res.ContentLength64 = r.Body.Length;
                res.OutputStream.Write(r.Body, 0, r.Body.Length);
                res.Close();
            }
            catch (Exception e)
            {
                Console.Error.WriteLine("host error: " + e);
                try { res.StatusCode = 500; res.Close(); } catch (Exception) { }
            }
        }
    }
}

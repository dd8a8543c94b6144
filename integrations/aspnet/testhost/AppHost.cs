using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Web;
using System.Web.Hosting;

namespace Gatehouse.TestHost
{
    [Serializable]
    public sealed class RequestData
    {
        public string Method, RawUrl, Path, Query, Version, RemoteAddress, LocalAddress;
        public int RemotePort, LocalPort;
        public List<string[]> Headers = new List<string[]>();
        public byte[] Body;
    }

    [Serializable]
    public sealed class ResponseData
    {
        public int Status = 200;
        public List<string[]> Headers = new List<string[]>();
        public byte[] Body;
    }

    /// <summary>Lives in the application's AppDomain; runs one request through HttpRuntime.</summary>
    public sealed class AppHost : MarshalByRefObject
    {
        public ResponseData Process(RequestData d)
        {
            var wr = new Worker(d);
            HttpRuntime.ProcessRequest(wr);
            if (!wr.Done.WaitOne(TimeSpan.FromSeconds(60))) throw new TimeoutException("request did not end");
            return wr.Result();
        }

        public override object InitializeLifetimeService() { return null; }
    }

    sealed class Worker : SimpleWorkerRequest
    {
        readonly RequestData d;
        readonly ResponseData r = new ResponseData();
        readonly MemoryStream body = new MemoryStream();
        public readonly ManualResetEvent Done = new ManualResetEvent(false);

        public Worker(RequestData d) : base(d.Path.TrimStart('/'), d.Query, TextWriter.Null) { this.d = d; }

        public ResponseData Result() { r.Body = body.ToArray(); return r; }

        string Header(string name)
        {
            foreach (var h in d.Headers) if (string.Equals(h[0], name, StringComparison.OrdinalIgnoreCase)) return h[1];
            return null;
        }

        public override string GetHttpVerbName() { return d.Method; }
        public override string GetHttpVersion() { return d.Version; }
        public override string GetUriPath() { return d.Path; }
        public override string GetFilePath() { return d.Path; }
        public override string GetPathInfo() { return ""; }
        public override string GetRawUrl() { return d.RawUrl; }
        public override string GetQueryString() { return d.Query; }
        public override string GetRemoteAddress() { return d.RemoteAddress; }
        public override int GetRemotePort() { return d.RemotePort; }
        public override string GetLocalAddress() { return d.LocalAddress; }
        public override int GetLocalPort() { return d.LocalPort; }
        public override string GetFilePathTranslated() { return MapPath(d.Path); }
        public override string GetKnownRequestHeader(int index) { return Header(GetKnownRequestHeaderName(index)); }
        public override string GetUnknownRequestHeader(string name) { return Header(name); }

        public override string[][] GetUnknownRequestHeaders()
        {
            var list = new List<string[]>();
            foreach (var h in d.Headers) if (GetKnownRequestHeaderIndex(h[0]) < 0) list.Add(new[] { h[0], h[1] });
            return list.ToArray();
        }

        public override byte[] GetPreloadedEntityBody() { return d.Body; }
        public override bool IsEntireEntityBodyIsPreloaded() { return true; }
        public override int GetTotalEntityBodyLength() { return d.Body == null ? 0 : d.Body.Length; }
        public override void SendStatus(int statusCode, string statusDescription) { r.Status = statusCode; }
        public override void SendKnownResponseHeader(int index, string value) { r.Headers.Add(new[] { GetKnownResponseHeaderName(index), value }); }
        public override void SendUnknownResponseHeader(string name, string value) { r.Headers.Add(new[] { name, value }); }
        public override void SendResponseFromMemory(byte[] data, int length) { body.Write(data, 0, length); }
        public override void SendResponseFromFile(string filename, long offset, long length)
        {
            using (var f = File.OpenRead(filename))
            {
                f.Seek(offset, SeekOrigin.Begin);
                var buf = new byte[length];
                int n = f.Read(buf, 0, buf.Length);
                body.Write(buf, 0, n);
            }
        }
        public override void FlushResponse(bool finalFlush) { }
        public override void EndOfRequest() { Done.Set(); }
    }
}

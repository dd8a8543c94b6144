using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

namespace Gatehouse.AspNet
{
    /// <summary>One public key from Gatehouse's JWKS.</summary>
    public sealed class Jwk
    {
        public string Kid;
        /// <summary>RS256 or ES256: the only algorithm this key verifies.</summary>
        public string Alg;
        public RSAParameters Rsa;
        public byte[] EcX, EcY;
    }

    /// <summary>
    /// Gatehouse's assertion keys, fetched from <c>gatehouse:jwks_url</c> (or read from
    /// <c>gatehouse:jwks_file</c>, written by <c>gatehouse keys export</c>) and cached.
    ///
    /// Why synchronous I/O: classic ASP.NET runs requests under an AspNetSynchronizationContext,
    /// so blocking on async code (<c>HttpClient.GetStringAsync(...).Result</c>) can deadlock when
    /// the continuation needs the very thread that waits. HttpWebRequest.GetResponse() is plain
    /// blocking I/O with no continuation, bounded by Timeout/ReadWriteTimeout (gatehouse:jwks_timeout).
    /// A request thread only ever waits for the network in two cases: the very first fetch (no
    /// keys yet; the module also starts it in the background at Init) and a token whose kid is
    /// unknown (key rotation). Unknown-kid refetches are single-flight (one lock) and at most one
    /// per gatehouse:jwks_min_refresh, so forged kids cannot cause a fetch storm. Keys older than
    /// gatehouse:jwks_max_age are refreshed on a thread-pool thread while requests keep using the
    /// cached set, and a failed fetch keeps the old set.
    /// </summary>
    public sealed class JwksCache
    {
        sealed class Snapshot
        {
            public Dictionary<string, Jwk> Keys;
            public DateTime FetchedAt;
        }

        const int MaxBytes = 1024 * 1024;
        static readonly TimeSpan RetryWithoutKeys = TimeSpan.FromSeconds(5);
        readonly Settings settings;
        readonly object fetchLock = new object();
        volatile Snapshot current;
        DateTime lastAttempt = DateTime.MinValue;
        int backgroundBusy;

        public JwksCache(Settings settings) { this.settings = settings; }

        /// <summary>Fetch attempts so far, failed ones included (diagnostics and tests).</summary>
        public int Attempts { get; private set; }

        /// <summary>Starts the first fetch on a thread-pool thread.</summary>
        public void Prefetch() { RefreshInBackground(); }

        /// <summary>The key for <paramref name="kid"/>, or null (then <paramref name="why"/> says why).</summary>
        public Jwk Find(string kid, out string why)
        {
            why = null;
            var snap = current;
            Jwk k;
            if (snap != null && snap.Keys.TryGetValue(kid, out k))
            {
                if (DateTime.UtcNow - snap.FetchedAt > settings.JwksMaxAge) RefreshInBackground();
                return k;
            }
            string error;
            snap = RefreshNow(snap, out error);
            if (snap != null && snap.Keys.TryGetValue(kid, out k)) return k;
            why = error ?? (snap == null ? "JWKS not available" : "unknown kid");
            return null;
        }

        /// <summary>
        /// Refetches unless another thread already did since <paramref name="seen"/>, or the last
        /// attempt was less than jwks_min_refresh ago. Waits at most the fetch timeout for the lock.
        /// </summary>
        Snapshot RefreshNow(Snapshot seen, out string error)
        {
            error = null;
            int wait = (int)settings.JwksTimeout.TotalMilliseconds * 2;
            if (!Monitor.TryEnter(fetchLock, wait)) { error = "JWKS fetch in progress"; return current; }
            try
            {
                if (current != seen) return current;
                // Rate limit: with keys, one refetch per jwks_min_refresh; without any (Gatehouse
                // unreachable at start), retry at most every 5 s, never once per request.
                var interval = seen != null || settings.JwksMinRefresh < RetryWithoutKeys ? settings.JwksMinRefresh : RetryWithoutKeys;
                if (DateTime.UtcNow - lastAttempt < interval) return current;
                lastAttempt = DateTime.UtcNow;
                Attempts++;
                try
                {
                    current = Fetch();
                }
                catch (Exception e)
                {
                    error = "JWKS fetch failed: " + e.Message;
                    Log.Warn("JWKS fetch from " + settings.JwksSource + " failed: " + e.Message);
                }
                return current;
            }
            finally { Monitor.Exit(fetchLock); }
        }

        void RefreshInBackground()
        {
            if (Interlocked.CompareExchange(ref backgroundBusy, 1, 0) != 0) return;
            ThreadPool.QueueUserWorkItem(_ =>
            {
                try
                {
                    string ignored;
                    var snap = current;
                    if (snap == null || DateTime.UtcNow - snap.FetchedAt > settings.JwksMaxAge) RefreshNow(snap, out ignored);
                }
                finally { Interlocked.Exchange(ref backgroundBusy, 0); }
            });
        }

        Snapshot Fetch()
        {
            string body = settings.JwksFile != null ? ReadFile(settings.JwksFile) : Download();
            var keys = Parse(body);
            Log.Info("JWKS fetched from " + settings.JwksSource + ": " + keys.Count + " usable key(s)");
            return new Snapshot { Keys = keys, FetchedAt = DateTime.UtcNow };
        }

        /// <summary>gatehouse:jwks_file: re-read like a fetch (unknown kid, jwks_max_age), at most 1 MiB.</summary>
        static string ReadFile(string path)
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new IOException("no file " + path);
            if (info.Length > MaxBytes) throw new IOException("JWKS larger than 1 MiB");
            return File.ReadAllText(path, Encoding.UTF8);
        }

        string Download()
        {
            var req = (HttpWebRequest)WebRequest.Create(settings.JwksUrl);
            req.Method = "GET";
            req.Accept = "application/json";
            req.AllowAutoRedirect = false;
            req.Timeout = (int)settings.JwksTimeout.TotalMilliseconds;
            req.ReadWriteTimeout = req.Timeout;
            string body;
            using (var resp = (HttpWebResponse)req.GetResponse())
            {
                if (resp.StatusCode != HttpStatusCode.OK) throw new WebException("HTTP " + (int)resp.StatusCode);
                using (var s = resp.GetResponseStream())
                using (var ms = new MemoryStream())
                {
                    var buf = new byte[8192];
                    int n;
                    while ((n = s.Read(buf, 0, buf.Length)) > 0)
                    {
                        ms.Write(buf, 0, n);
                        if (ms.Length > MaxBytes) throw new WebException("JWKS larger than 1 MiB");
                    }
                    body = Encoding.UTF8.GetString(ms.ToArray());
                }
            }
            return body;
        }

        /// <summary>Parses a JWKS document; keys that are not RS256/ES256 public signing keys are skipped.</summary>
        public static Dictionary<string, Jwk> Parse(string json)
        {
            var doc = Jose.ParseObject(json);
            object arr;
            var items = doc.TryGetValue("keys", out arr) ? arr as object[] : null;
            if (items == null) throw new FormatException("JWKS has no \"keys\" array");
            var keys = new Dictionary<string, Jwk>(StringComparer.Ordinal);
            foreach (var item in items)
            {
                var d = item as Dictionary<string, object>;
                if (d == null) continue;
                string kid = Jose.Str(d, "kid"), kty = Jose.Str(d, "kty"), use = Jose.Str(d, "use"), alg = Jose.Str(d, "alg");
                if (kid == null || (use != null && use != "sig") || d.ContainsKey("d")) continue;
                try
                {
                    if (kty == "RSA" && (alg == null || alg == "RS256"))
                    {
                        var n = Jose.Base64UrlDecode(Jose.Str(d, "n") ?? "");
                        var e = Jose.Base64UrlDecode(Jose.Str(d, "e") ?? "");
                        int bits = (n.Length - (n.Length > 0 && n[0] == 0 ? 1 : 0)) * 8;
                        if (bits < 2048 || e.Length == 0) continue;
                        keys[kid] = new Jwk { Kid = kid, Alg = "RS256", Rsa = new RSAParameters { Modulus = n, Exponent = e } };
                    }
                    else if (kty == "EC" && Jose.Str(d, "crv") == "P-256" && (alg == null || alg == "ES256"))
                    {
                        var x = Jose.Base64UrlDecode(Jose.Str(d, "x") ?? "");
                        var y = Jose.Base64UrlDecode(Jose.Str(d, "y") ?? "");
                        if (x.Length != 32 || y.Length != 32) continue;
                        keys[kid] = new Jwk { Kid = kid, Alg = "ES256", EcX = x, EcY = y };
                    }
                }
                catch (FormatException) { }
            }
            return keys;
        }
    }
}

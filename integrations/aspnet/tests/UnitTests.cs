using System;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Configuration;
using System.Linq;
using System.Security.Claims;
using System.Text;
using Gatehouse.AspNet;

namespace Gatehouse.AspNet.Tests
{
    /// <summary>
    /// Unit tests of the module's parsing code, with a runner of its own (no NUnit needed):
    /// <c>mono GatehouseUnitTests.exe</c> prints one line per check and exits with the failure count.
    /// </summary>
    public static class UnitTests
    {
        static int failures, passed;

        static void Check(bool ok, string what)
        {
            if (ok) { passed++; return; }
            failures++;
            Console.WriteLine("FAIL " + what);
        }

        static void Throws<T>(Action a, string contains, string what) where T : Exception
        {
            try { a(); Check(false, what + ": no exception"); }
            catch (T e) { Check(e.Message.Contains(contains), what + ": message \"" + e.Message + "\" lacks \"" + contains + "\""); }
        }

        static NameValueCollection App(params string[] kv)
        {
            var c = new NameValueCollection();
            for (int i = 0; i < kv.Length; i += 2) c["gatehouse:" + kv[i]] = kv[i + 1];
            return c;
        }

        static readonly string[] Valid = { "jwks_url", "https://gh/.well-known/gatehouse/jwks.json", "issuer", "https://gh", "audience", "https://app" };

        static NameValueCollection With(params string[] kv)
        {
            var c = App(Valid);
            for (int i = 0; i < kv.Length; i += 2) c["gatehouse:" + kv[i]] = kv[i + 1];
            return c;
        }

        static string B64u(string s) { return B64u(Encoding.UTF8.GetBytes(s)); }
        static string B64u(byte[] b) { return Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_'); }
        static byte[] Filled(int n, byte v) { var b = new byte[n]; for (int i = 0; i < n; i++) b[i] = v; return b; }

        public static int Main()
        {
            // AddressList: addresses, CIDR ranges, IPv4-mapped IPv6.
            var list = AddressList.Parse("10.0.0.0/8, ::1; 192.168.1.7", "gatehouse:trusted_addresses");
            foreach (var a in new[] { "10.1.2.3", "::ffff:10.1.2.3", "::1", "192.168.1.7" }) Check(list.Contains(a), "contains " + a);
            foreach (var a in new[] { "11.0.0.1", "192.168.1.8", "", null, "not-an-ip", "::2" }) Check(!list.Contains(a), "does not contain " + a);
            Check(AddressList.Parse("192.168.0.0/23", "x").Contains("192.168.1.200"), "/23 covers the next /24");
            Check(!AddressList.Parse("192.168.0.0/23", "x").Contains("192.168.2.1"), "/23 ends");
            Throws<ConfigurationErrorsException>(() => AddressList.Parse("10.0.0.300", "gatehouse:trusted_addresses"), "gatehouse:trusted_addresses", "bad address");
            Throws<ConfigurationErrorsException>(() => AddressList.Parse("10.0.0.0/33", "x"), "prefix length", "bad prefix");

            // Settings: defaults, and every error names its appSettings key.
            var s = Settings.Parse(App(Valid));
            Check(s.Mode == AuthMode.Assertion && s.Header == "X-Gatehouse-Assertion", "defaults: assertion mode, Gatehouse's header");
            Check(s.Algorithms.Contains("RS256") && s.Algorithms.Contains("ES256") && s.Algorithms.Count == 2, "default algorithms RS256, ES256");
            Check(s.ClockSkew == TimeSpan.FromSeconds(60) && !s.AnonymousOnMissing, "default skew 60 s, 401 on missing");
            Check(Settings.Parse(With("clock_skew", "30s")).ClockSkew == TimeSpan.FromSeconds(30), "clock_skew 30s");
            Throws<ConfigurationErrorsException>(() => Settings.Parse(App("issuer", "x", "audience", "y")), "gatehouse:jwks_url", "assertion mode needs jwks_url");
            Throws<ConfigurationErrorsException>(() => Settings.Parse(With("jwks_url", "file:///etc/passwd")), "gatehouse:jwks_url", "jwks_url must be http(s)");
            Throws<ConfigurationErrorsException>(() => Settings.Parse(With("audience", "")), "gatehouse:audience", "audience required");
            foreach (var alg in new[] { "none", "HS256", "RS256,HS256", "PS256" })
                Throws<ConfigurationErrorsException>(() => Settings.Parse(With("algorithms", alg)), "gatehouse:algorithms", "algorithms " + alg + " refused");
            Throws<ConfigurationErrorsException>(() => Settings.Parse(With("mode", "forms")), "gatehouse:mode", "unknown mode");
            Throws<ConfigurationErrorsException>(() => Settings.Parse(With("on_missing", "403")), "gatehouse:on_missing", "on_missing");
            Throws<ConfigurationErrorsException>(() => Settings.Parse(With("clock_skew", "1h")), "gatehouse:clock_skew", "clock_skew units");
            Throws<ConfigurationErrorsException>(() => Settings.Parse(App("mode", "easyauth")), "gatehouse:trusted_addresses", "easyauth needs a trust source");
            Check(Settings.Parse(App("mode", "easyauth", "trusted_addresses", "10.0.0.1")).JwksUrl == null, "easyauth with addresses only");

            // JWKS parsing: only RS256 (>= 2048 bit) and ES256 P-256 public signing keys.
            string n2048 = B64u(Filled(256, 0xc1)), n1024 = B64u(Filled(128, 0xc1)), xy = B64u(Filled(32, 1));
            var jwks = "{\"keys\":[" +
                "{\"kty\":\"RSA\",\"kid\":\"rsa\",\"n\":\"" + n2048 + "\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"use\":\"sig\"}," +
                "{\"kty\":\"RSA\",\"kid\":\"small\",\"n\":\"" + n1024 + "\",\"e\":\"AQAB\"}," +
                "{\"kty\":\"RSA\",\"kid\":\"private\",\"n\":\"" + n2048 + "\",\"e\":\"AQAB\",\"d\":\"AQAB\"}," +
                "{\"kty\":\"RSA\",\"kid\":\"enc\",\"n\":\"" + n2048 + "\",\"e\":\"AQAB\",\"use\":\"enc\"}," +
                "{\"kty\":\"RSA\",\"kid\":\"ps\",\"n\":\"" + n2048 + "\",\"e\":\"AQAB\",\"alg\":\"PS256\"}," +
                "{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":\"P-256\",\"x\":\"" + xy + "\",\"y\":\"" + xy + "\"}," +
                "{\"kty\":\"EC\",\"kid\":\"p384\",\"crv\":\"P-384\",\"x\":\"" + xy + "\",\"y\":\"" + xy + "\"}," +
                "{\"kty\":\"oct\",\"kid\":\"hmac\",\"k\":\"c2VjcmV0\"},{\"kty\":\"RSA\",\"n\":\"" + n2048 + "\",\"e\":\"AQAB\"}]}";
            var keys = JwksCache.Parse(jwks);
            Check(keys.Count == 2 && keys["rsa"].Alg == "RS256" && keys["ec"].Alg == "ES256",
                "JWKS keeps rsa and ec only, got " + string.Join(",", keys.Keys));
            Throws<FormatException>(() => JwksCache.Parse("{\"nokeys\":1}"), "keys", "JWKS without keys");
            Throws<FormatException>(() => JwksCache.Parse("[1]"), "not an object", "JWKS not an object");

            // JWKS unreachable: a 401 reason, and no fetch per request.
            var down = new JwksCache(Settings.Parse(With("jwks_url", "http://127.0.0.1:9/jwks.json", "jwks_timeout", "2")));
            string why;
            Check(down.Find("k1", out why) == null && why.StartsWith("JWKS fetch failed"), "unreachable JWKS: " + why);
            for (int i = 0; i < 5; i++) down.Find("k" + i, out why);
            Check(down.Attempts == 1 && why == "JWKS not available", "no refetch within 5 s without keys: " + down.Attempts + " attempts, " + why);

            // gatehouse:jwks_file (gatehouse keys export, air-gapped servers): an absolute path, re-read on an unknown kid.
            string dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gh-jwks-" + Guid.NewGuid().ToString("N"));
            System.IO.Directory.CreateDirectory(dir);
            try
            {
                string file = System.IO.Path.Combine(dir, "jwks.json");
                var fs = Settings.Parse(App("jwks_file", file, "issuer", "https://gh", "audience", "https://app", "jwks_min_refresh", "0"));
                Check(fs.JwksFile == file && fs.JwksUrl == null && fs.JwksSource == file, "jwks_file instead of jwks_url");
                Throws<ConfigurationErrorsException>(() => Settings.Parse(App("jwks_file", "jwks.json", "issuer", "a", "audience", "b")), "gatehouse:jwks_file", "jwks_file must be absolute");
                Throws<ConfigurationErrorsException>(() => Settings.Parse(With("jwks_file", file)), "gatehouse:jwks_file", "jwks_url and jwks_file exclude each other");
                var fromFile = new JwksCache(fs);
                Check(fromFile.Find("one", out why) == null && why.StartsWith("JWKS fetch failed: no file"), "missing jwks_file: " + why);
                string rsaKey = "{\"kty\":\"RSA\",\"n\":\"" + n2048 + "\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"use\":\"sig\",\"kid\":\"";
                System.IO.File.WriteAllText(file, "{\"keys\":[" + rsaKey + "one\"}]}");
                Check(fromFile.Find("one", out why) != null, "key read from jwks_file: " + why);
                System.IO.File.WriteAllText(file, "{\"keys\":[" + rsaKey + "one\"}," + rsaKey + "two\"}]}");
                Check(fromFile.Find("two", out why) != null, "jwks_file re-read on an unknown kid (new export after a rotation): " + why);
            }
            finally { System.IO.Directory.Delete(dir, true); }

            // base64url is strict.
            Check(Encoding.UTF8.GetString(Jose.Base64UrlDecode(B64u("hi?>"))) == "hi?>", "base64url round trip");
            foreach (var bad in new[] { "aGk=", "a+b/", "a" }) Throws<FormatException>(() => Jose.Base64UrlDecode(bad), "", "base64url rejects " + bad);

            // Principal from assertion claims: App Service claim types, Name order, roles from roles and groups.
            var jwt = Jose.ParseObject("{\"sub\":\"u1\",\"name\":\"Ann\",\"preferred_username\":\"ann@corp\",\"roles\":[\"admins\",\"readers\"],\"groups\":[\"g1\"],\"scp\":\"a b\",\"exp\":1700000000,\"ok\":true,\"tid\":\"t1\"}");
            var p = EasyAuthPrincipal.FromAssertion(jwt);
            Check(p.Identity.Name == "ann@corp", "Name: preferred_username before name, got " + p.Identity.Name);
            Check(p.IsInRole("admins") && p.IsInRole("readers") && p.IsInRole("g1") && !p.IsInRole("g2") && !p.IsInRole("Admins"), "IsInRole from roles and groups, case-sensitive");
            Check(p.HasClaim(ClaimTypes.NameIdentifier, "u1") && p.HasClaim("http://schemas.microsoft.com/identity/claims/tenantid", "t1"), "sub, tid mapped");
            Check(p.HasClaim("http://schemas.microsoft.com/identity/claims/scope", "a b"), "scp kept as one claim");
            Check(p.HasClaim("exp", "1700000000") && p.HasClaim("ok", "true"), "numbers and booleans as text");
            Check(p.FindAll(ClaimTypes.Role).Count() == 2, "one role claim per role");
            Check(EasyAuthPrincipal.FromAssertion(Jose.ParseObject("{\"sub\":\"u2\",\"email\":\"b@x\",\"name\":\"B\"}")).Identity.Name == "b@x", "Name: email first");
            Check(EasyAuthPrincipal.FromAssertion(Jose.ParseObject("{\"sub\":\"svc\"}")).Identity.Name == "svc", "Name: subject last");

            // X-MS-CLIENT-PRINCIPAL.
            string doc = "{\"auth_typ\":\"aad\",\"claims\":[{\"typ\":\"n\",\"val\":\"Zoë\"},{\"typ\":\"r\",\"val\":\"admins\"}],\"name_typ\":\"n\",\"role_typ\":\"r\"}";
            var e = EasyAuthPrincipal.FromClientPrincipalHeader(Convert.ToBase64String(Encoding.UTF8.GetBytes(doc)));
            Check(e.Identity.Name == "Zoë" && e.IsInRole("admins") && e.Identity.AuthenticationType == "aad", "Easy Auth name_typ, role_typ, auth_typ, UTF-8");
            Throws<FormatException>(() => EasyAuthPrincipal.FromClientPrincipalHeader("!!!"), "", "Easy Auth: bad base64");
            Throws<FormatException>(() => EasyAuthPrincipal.FromClientPrincipalHeader(Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"claims\":[]}"))), "auth_typ", "Easy Auth: no auth_typ");

            Console.WriteLine(failures == 0 ? "passed " + passed + " checks" : failures + " of " + (passed + failures) + " checks failed");
            return failures;
        }
    }
}

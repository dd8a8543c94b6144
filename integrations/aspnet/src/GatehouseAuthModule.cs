using System;
using System.Security.Claims;
using System.Threading;
using System.Web;

namespace Gatehouse.AspNet
{
    /// <summary>
    /// Turns Gatehouse's verified identity into <c>HttpContext.User</c>. web.config:
    /// <c>&lt;add name="Gatehouse" type="Gatehouse.AspNet.GatehouseAuthModule, Gatehouse.AspNet"/&gt;</c>
    /// and <c>gatehouse:*</c> appSettings (see README.md). Runs at AuthenticateRequest.
    /// </summary>
    public sealed class GatehouseAuthModule : IHttpModule
    {
        /// <summary>Easy Auth headers (App Service names) removed after use.</summary>
        public static readonly string[] EasyAuthHeaders =
        {
            "X-MS-CLIENT-PRINCIPAL", "X-MS-CLIENT-PRINCIPAL-NAME", "X-MS-CLIENT-PRINCIPAL-ID", "X-MS-CLIENT-PRINCIPAL-IDP",
        };

        sealed class Shared
        {
            public Settings Settings;
            public JwksCache Jwks;
            public JwtVerifier Verifier;
        }

        // One settings object and one JWKS cache per AppDomain: ASP.NET creates many
        // HttpApplication instances (and so many module instances) in one app.
        static readonly Lazy<Shared> shared = new Lazy<Shared>(() =>
        {
            var s = Settings.FromAppSettings();
            var sh = new Shared { Settings = s };
            if (s.JwksSource != null)
            {
                sh.Jwks = new JwksCache(s);
                sh.Verifier = new JwtVerifier(s, sh.Jwks);
                sh.Jwks.Prefetch();
            }
            Log.Info("module ready, mode " + s.Mode + (s.JwksSource != null ? ", JWKS " + s.JwksSource : ""));
            return sh;
        }, LazyThreadSafetyMode.ExecutionAndPublication);

        public void Init(HttpApplication app)
        {
            var sh = shared.Value;   // a configuration error surfaces here, at application start
            app.AuthenticateRequest += (sender, e) => Authenticate((HttpApplication)sender, sh);
        }

        public void Dispose() { }

        static void Authenticate(HttpApplication app, Shared sh)
        {
            var s = sh.Settings;
            var ctx = app.Context;
            var req = ctx.Request;
            string why;
            ClaimsPrincipal user = s.Mode == AuthMode.Assertion
                ? FromAssertion(req, sh, out why)
                : FromEasyAuth(req, sh, out why);

            HeaderScrub.Remove(req, s.Header);
            if (!(user != null && s.Mode == AuthMode.EasyAuth && s.KeepEasyAuthHeaders))
                foreach (var h in EasyAuthHeaders) HeaderScrub.Remove(req, h);

            if (user != null)
            {
                ctx.User = user;
                Thread.CurrentPrincipal = user;
                return;
            }
            Log.Warn("request " + req.HttpMethod + " " + req.Path + " from " + req.UserHostAddress + ": " + why +
                     (s.AnonymousOnMissing ? " (continues anonymous)" : " (401)"));
            if (s.AnonymousOnMissing) return;
            var res = ctx.Response;
            res.Clear();
            res.StatusCode = 401;
            res.TrySkipIisCustomErrors = true;
            res.ContentType = "text/plain";
            res.Cache.SetCacheability(HttpCacheability.NoCache);
            res.Write("401 Unauthorized: " + why + "\n");
            app.CompleteRequest();
        }

        static ClaimsPrincipal FromAssertion(HttpRequest req, Shared sh, out string why)
        {
            string token = req.Headers[sh.Settings.Header];
            if (string.IsNullOrEmpty(token)) { why = "no " + sh.Settings.Header + " header"; return null; }
            var r = sh.Verifier.Verify(token);
            why = r.Error;
            return r.Ok ? EasyAuthPrincipal.FromAssertion(r.Claims) : null;
        }

        /// <summary>
        /// X-MS-CLIENT-PRINCIPAL is trusted only from gatehouse:trusted_addresses, or with a valid
        /// assertion on the same request whose sub equals the principal's nameidentifier claim.
        /// </summary>
        static ClaimsPrincipal FromEasyAuth(HttpRequest req, Shared sh, out string why)
        {
            string value = req.Headers["X-MS-CLIENT-PRINCIPAL"];
            if (string.IsNullOrEmpty(value)) { why = "no X-MS-CLIENT-PRINCIPAL header"; return null; }
            string addr = req.ServerVariables["REMOTE_ADDR"];
            string sub = null;
            if (!sh.Settings.TrustedAddresses.Contains(addr))
            {
                string token = sh.Verifier == null ? null : req.Headers[sh.Settings.Header];
                if (string.IsNullOrEmpty(token)) { why = "X-MS-CLIENT-PRINCIPAL from untrusted address " + addr; return null; }
                var r = sh.Verifier.Verify(token);
                if (!r.Ok) { why = "X-MS-CLIENT-PRINCIPAL with invalid assertion: " + r.Error; return null; }
                sub = Jose.Str(r.Claims, "sub");
            }
            GatehousePrincipal p;
            try { p = EasyAuthPrincipal.FromClientPrincipalHeader(value); }
            catch (FormatException) { why = "malformed X-MS-CLIENT-PRINCIPAL"; return null; }
            catch (ArgumentException) { why = "malformed X-MS-CLIENT-PRINCIPAL"; return null; }
            if (sub != null && !p.HasClaim(ClaimTypes.NameIdentifier, sub))
            {
                why = "X-MS-CLIENT-PRINCIPAL does not match the assertion's subject";
                return null;
            }
            why = null;
            return p;
        }
    }
}

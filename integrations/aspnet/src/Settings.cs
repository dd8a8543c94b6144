using System;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Configuration;
using System.Globalization;

namespace Gatehouse.AspNet
{
    /// <summary>How the module learns the user.</summary>
    public enum AuthMode { Assertion, EasyAuth }

    /// <summary>
    /// The module's settings, read once from <c>&lt;appSettings&gt;</c> keys prefixed
    /// <c>gatehouse:</c>. A missing or malformed value throws a ConfigurationErrorsException
    /// naming the key, so a misconfigured app fails loudly at start instead of letting
    /// requests through.
    /// </summary>
    public sealed class Settings
    {
        public const string Prefix = "gatehouse:";

        public AuthMode Mode { get; private set; }
        public string JwksUrl { get; private set; }
        /// <summary>A JWKS file (from <c>gatehouse keys export</c>) instead of jwks_url, for servers that cannot reach Gatehouse.</summary>
        public string JwksFile { get; private set; }
        /// <summary>Where the keys come from: the URL or the file (for logs); null without either.</summary>
        public string JwksSource { get { return JwksUrl ?? JwksFile; } }
        public string Issuer { get; private set; }
        public string Audience { get; private set; }
        /// <summary>Header carrying the assertion (Gatehouse default X-Gatehouse-Assertion).</summary>
        public string Header { get; private set; }
        /// <summary>Allowed JWS algorithms: a subset of RS256, ES256. Never none or HS*.</summary>
        public ICollection<string> Algorithms { get; private set; }
        public AddressList TrustedAddresses { get; private set; }
        /// <summary>True: a request without (valid) identity continues anonymous instead of 401.</summary>
        public bool AnonymousOnMissing { get; private set; }
        public TimeSpan ClockSkew { get; private set; }
        /// <summary>Easy Auth mode: keep X-MS-CLIENT-PRINCIPAL* for app code when they were trusted (apps that decode them themselves).</summary>
        public bool KeepEasyAuthHeaders { get; private set; }
        /// <summary>Unknown kid: refetch the JWKS at most once per this interval.</summary>
        public TimeSpan JwksMinRefresh { get; private set; }
        /// <summary>Keys older than this are refreshed in the background.</summary>
        public TimeSpan JwksMaxAge { get; private set; }
        /// <summary>Timeout of one JWKS fetch (connect + read).</summary>
        public TimeSpan JwksTimeout { get; private set; }

        public static Settings FromAppSettings()
        {
            return Parse(ConfigurationManager.AppSettings);
        }

        public static Settings Parse(NameValueCollection app)
        {
            var s = new Settings();
            string mode = Get(app, "mode", "assertion");
            if (mode == "assertion") s.Mode = AuthMode.Assertion;
            else if (mode == "easyauth") s.Mode = AuthMode.EasyAuth;
            else throw Bad("mode", "expected assertion or easyauth, got \"" + mode + "\"");

            s.Header = Get(app, "header", "X-Gatehouse-Assertion");
            s.JwksUrl = Get(app, "jwks_url", null);
            s.JwksFile = Get(app, "jwks_file", null);
            s.Issuer = Get(app, "issuer", null);
            s.Audience = Get(app, "audience", null);
            s.TrustedAddresses = AddressList.Parse(Get(app, "trusted_addresses", ""), Prefix + "trusted_addresses");
            bool assertionConfigured = s.JwksSource != null || s.Issuer != null || s.Audience != null;
            if (s.Mode == AuthMode.Assertion || assertionConfigured)
            {
                if (s.JwksUrl != null && s.JwksFile != null) throw Bad("jwks_file", "set either jwks_url or jwks_file, not both");
                if (s.JwksSource == null) throw Bad("jwks_url", "required, e.g. https://gatehouse.corp/.well-known/gatehouse/jwks.json (or gatehouse:jwks_file)");
                Uri u;
                if (s.JwksUrl != null && (!Uri.TryCreate(s.JwksUrl, UriKind.Absolute, out u) || (u.Scheme != "http" && u.Scheme != "https")))
                    throw Bad("jwks_url", "expected an http(s) URL");
                if (s.JwksFile != null && !System.IO.Path.IsPathRooted(s.JwksFile))
                    throw Bad("jwks_file", "expected an absolute path, e.g. C:\\inetpub\\gatehouse-jwks.json");
                if (s.Issuer == null) throw Bad("issuer", "required: Gatehouse's identity.assertion.issuer");
                if (s.Audience == null) throw Bad("audience", "required: the route's identity.assertion.audience");
            }
            if (s.Mode == AuthMode.EasyAuth && s.TrustedAddresses.IsEmpty && s.JwksSource == null)
                throw Bad("trusted_addresses", "easyauth mode needs trusted_addresses, or jwks_url/issuer/audience to accept requests carrying a valid assertion");

            var algs = new HashSet<string>(StringComparer.Ordinal);
            foreach (var a in Get(app, "algorithms", "RS256,ES256").Split(','))
            {
                string t = a.Trim();
                if (t.Length == 0) continue;
                if (t != "RS256" && t != "ES256") throw Bad("algorithms", "supported: RS256, ES256 (got \"" + t + "\")");
                algs.Add(t);
            }
            if (algs.Count == 0) throw Bad("algorithms", "at least one of RS256, ES256");
            s.Algorithms = algs;

            string onMissing = Get(app, "on_missing", "401");
            if (onMissing == "401") s.AnonymousOnMissing = false;
            else if (onMissing == "anonymous") s.AnonymousOnMissing = true;
            else throw Bad("on_missing", "expected 401 or anonymous");

            string keep = Get(app, "keep_easyauth_headers", "false");
            if (keep != "true" && keep != "false") throw Bad("keep_easyauth_headers", "expected true or false");
            s.KeepEasyAuthHeaders = keep == "true";

            s.ClockSkew = Seconds(app, "clock_skew", 60, 0, 600);
            s.JwksMinRefresh = Seconds(app, "jwks_min_refresh", 30, 0, 3600);
            s.JwksMaxAge = Seconds(app, "jwks_max_age", 600, 1, 86400);
            s.JwksTimeout = Seconds(app, "jwks_timeout", 5, 1, 60);
            return s;
        }

        static string Get(NameValueCollection app, string key, string dflt)
        {
            string v = app[Prefix + key];
            if (v == null) return dflt;
            v = v.Trim();
            return v.Length == 0 ? dflt : v;
        }

        static TimeSpan Seconds(NameValueCollection app, string key, int dflt, int min, int max)
        {
            string v = Get(app, key, null);
            if (v == null) return TimeSpan.FromSeconds(dflt);
            if (v.EndsWith("s", StringComparison.Ordinal)) v = v.Substring(0, v.Length - 1);
            int n;
            if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out n) || n < min || n > max)
                throw Bad(key, "expected seconds between " + min + " and " + max);
            return TimeSpan.FromSeconds(n);
        }

        static ConfigurationErrorsException Bad(string key, string why)
        {
            return new ConfigurationErrorsException("appSettings " + Prefix + key + ": " + why);
        }
    }
}

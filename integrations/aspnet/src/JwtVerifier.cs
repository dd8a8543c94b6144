using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.AspNet
{
    /// <summary>Result of verifying an assertion: the claims, or why it was refused.</summary>
    public sealed class VerifyResult
    {
        public Dictionary<string, object> Claims;
        public string Error;
        public bool Ok { get { return Error == null; } }
        public static VerifyResult Fail(string why) { return new VerifyResult { Error = why }; }
    }

    /// <summary>
    /// Verifies Gatehouse's assertion (a compact JWS): algorithm from the allow-list and equal to
    /// the key's own algorithm (never taken from the token alone; none and HS* always refused),
    /// key by kid from Gatehouse's JWKS only (jku/x5u/jwk headers ignored, crit refused), then
    /// iss, aud, exp and nbf with clock skew.
    /// </summary>
    public sealed class JwtVerifier
    {
        readonly Settings settings;
        readonly JwksCache jwks;
        readonly Func<DateTime> now;

        public JwtVerifier(Settings settings, JwksCache jwks, Func<DateTime> now = null)
        {
            this.settings = settings;
            this.jwks = jwks;
            this.now = now ?? (() => DateTime.UtcNow);
        }

        public VerifyResult Verify(string token)
        {
            if (string.IsNullOrEmpty(token) || token.Length > 64 * 1024) return VerifyResult.Fail("malformed assertion");
            string[] parts = token.Split('.');
            if (parts.Length != 3) return VerifyResult.Fail("malformed assertion");
            Dictionary<string, object> header, claims;
            byte[] sig;
            try
            {
                header = Jose.ParseObject(Encoding.UTF8.GetString(Jose.Base64UrlDecode(parts[0])));
                claims = Jose.ParseObject(Encoding.UTF8.GetString(Jose.Base64UrlDecode(parts[1])));
                sig = Jose.Base64UrlDecode(parts[2]);
            }
            catch (FormatException) { return VerifyResult.Fail("malformed assertion"); }
            catch (ArgumentException) { return VerifyResult.Fail("malformed assertion"); }

            string alg = Jose.Str(header, "alg");
            if (alg != "RS256" && alg != "ES256") return VerifyResult.Fail("algorithm " + (alg ?? "(none)") + " refused");
            if (!settings.Algorithms.Contains(alg)) return VerifyResult.Fail("algorithm " + alg + " not allowed");
            if (header.ContainsKey("crit")) return VerifyResult.Fail("crit header refused");
            string kid = Jose.Str(header, "kid");
            if (string.IsNullOrEmpty(kid)) return VerifyResult.Fail("assertion has no kid");

            string why;
            Jwk key = jwks.Find(kid, out why);
            if (key == null) return VerifyResult.Fail(why);
            if (key.Alg != alg) return VerifyResult.Fail("algorithm " + alg + " does not match key " + kid);

            byte[] signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
            bool good;
            try
            {
                good = alg == "RS256" ? VerifyRs256(key, signed, sig) : EcdsaVerify.VerifyEs256(key, signed, sig);
            }
            catch (CryptographicException) { good = false; }
            catch (NotImplementedException e) { return Unsupported(e); }       // Mono
            catch (NotSupportedException e) { return Unsupported(e); }         // PlatformNotSupportedException
            catch (MissingMethodException e) { return Unsupported(e); }        // .NET Framework before 4.7
            catch (TypeLoadException e) { return Unsupported(e); }
            if (!good) return VerifyResult.Fail("bad signature");
            return CheckClaims(claims);
        }

        static VerifyResult Unsupported(Exception e)
        {
            return VerifyResult.Fail("ES256 is not supported by this runtime (" + e.GetType().Name + "); sign assertions with RS256");
        }

        VerifyResult CheckClaims(Dictionary<string, object> c)
        {
            if (Jose.Str(c, "iss") != settings.Issuer) return VerifyResult.Fail("wrong issuer");
            object aud;
            c.TryGetValue("aud", out aud);
            bool audOk = aud as string == settings.Audience;
            var audList = aud as object[];
            if (audList != null) foreach (var a in audList) if (a as string == settings.Audience) audOk = true;
            if (!audOk) return VerifyResult.Fail("wrong audience");
            double t = (now() - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalSeconds;
            double skew = settings.ClockSkew.TotalSeconds;
            double? exp = Jose.Num(c, "exp"), nbf = Jose.Num(c, "nbf");
            if (exp == null) return VerifyResult.Fail("assertion has no exp");
            if (t >= exp.Value + skew) return VerifyResult.Fail("assertion expired");
            if (nbf != null && t < nbf.Value - skew) return VerifyResult.Fail("assertion not yet valid");
            if (string.IsNullOrEmpty(Jose.Str(c, "sub"))) return VerifyResult.Fail("assertion has no sub");
            return new VerifyResult { Claims = c };
        }

        static bool VerifyRs256(Jwk key, byte[] data, byte[] sig)
        {
            using (var rsa = RSA.Create())
            {
                rsa.ImportParameters(key.Rsa);
                return rsa.VerifyData(data, sig, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            }
        }
    }
}

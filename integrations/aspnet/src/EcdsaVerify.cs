using System;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Gatehouse.AspNet
{
    /// <summary>
    /// ES256 verification with the .NET Framework 4.7+ API (ECDsa.Create(ECParameters)).
    /// Kept in its own non-inlined method so that, on a runtime without it, only an ES256 token
    /// fails (the verifier reports "ES256 is not supported by this runtime") and RS256 keeps
    /// working. Mono 6.8 throws NotImplementedException here; this path is compiled but not
    /// exercised by the Mono tests. Build with -define:GATEHOUSE_NO_ES256 to target 4.6.2's API.
    /// </summary>
    static class EcdsaVerify
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static bool VerifyEs256(Jwk key, byte[] data, byte[] sig)
        {
#if GATEHOUSE_NO_ES256
            throw new PlatformNotSupportedException("built without ES256 (GATEHOUSE_NO_ES256)");
#else
            if (sig.Length != 64) return false;   // JWS ES256: r || s, 32 bytes each (not DER)
            var p = new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = key.EcX, Y = key.EcY },
            };
            using (var ec = ECDsa.Create(p))
            {
                return ec.VerifyData(data, sig, HashAlgorithmName.SHA256);
            }
#endif
        }
    }
}

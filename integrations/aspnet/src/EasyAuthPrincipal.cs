using System;
using System.Collections.Generic;
using System.Security.Claims;
using System.Text;

namespace Gatehouse.AspNet
{
    /// <summary>
    /// The signed-in user as App Service Authentication ("Easy Auth") presents it: claim types
    /// from App Service's Entra ID mapping, Name from name_typ, roles from role_typ.
    /// <see cref="IsInRole"/> is also true for a value of a <c>groups</c> claim, so
    /// <c>[Authorize(Roles = "…")]</c> works with Entra group object ids as well as app roles.
    /// </summary>
    public sealed class GatehousePrincipal : ClaimsPrincipal
    {
        public const string GroupsClaim = "groups";

        public GatehousePrincipal(ClaimsIdentity identity) : base(identity) { }

        public override bool IsInRole(string role)
        {
            if (base.IsInRole(role)) return true;
            foreach (var id in Identities)
                if (id.HasClaim(GroupsClaim, role)) return true;
            return false;
        }
    }

    /// <summary>Builds <see cref="GatehousePrincipal"/>s from X-MS-CLIENT-PRINCIPAL or from assertion claims.</summary>
    public static class EasyAuthPrincipal
    {
        const string Xmlsoap = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/";
        const string Msid = "http://schemas.microsoft.com/identity/claims/";

        /// <summary>JWT claim → claim type, as App Service maps Entra ID tokens (Gatehouse's easyauth.ts).</summary>
        public static readonly Dictionary<string, string> ClaimTypeMap = new Dictionary<string, string>
        {
            { "oid", Msid + "objectidentifier" },
            { "sub", ClaimTypes.NameIdentifier },
            { "email", ClaimTypes.Email },
            { "tid", Msid + "tenantid" },
            { "roles", ClaimTypes.Role },
            { "role", ClaimTypes.Role },
            { "scp", Msid + "scope" },
            { "given_name", ClaimTypes.GivenName },
            { "family_name", ClaimTypes.Surname },
            { "upn", ClaimTypes.Upn },
            { "unique_name", ClaimTypes.Name },
            { "idp", Msid + "identityprovider" },
            { "amr", "http://schemas.microsoft.com/claims/authnmethodsreferences" },
        };

        /// <summary>Decodes an X-MS-CLIENT-PRINCIPAL value (base64 JSON); throws FormatException.</summary>
        public static GatehousePrincipal FromClientPrincipalHeader(string value)
        {
            var doc = Jose.ParseObject(Encoding.UTF8.GetString(Convert.FromBase64String(value.Trim())));
            string authTyp = Jose.Str(doc, "auth_typ");
            if (string.IsNullOrEmpty(authTyp)) throw new FormatException("auth_typ missing");
            object arr;
            var items = doc.TryGetValue("claims", out arr) ? arr as object[] : null;
            if (items == null) throw new FormatException("claims missing");
            var claims = new List<Claim>();
            foreach (var item in items)
            {
                var d = item as Dictionary<string, object>;
                string typ = d == null ? null : Jose.Str(d, "typ"), val = d == null ? null : Jose.Str(d, "val");
                if (!string.IsNullOrEmpty(typ) && val != null) claims.Add(new Claim(typ, val));
            }
            string nameTyp = Jose.Str(doc, "name_typ") ?? ClaimTypes.Name;
            string roleTyp = Jose.Str(doc, "role_typ") ?? ClaimTypes.Role;
            return new GatehousePrincipal(new ClaimsIdentity(claims, authTyp, nameTyp, roleTyp));
        }

        /// <summary>
        /// The principal for verified assertion claims: one claim per array item, types mapped as
        /// App Service does; Name is the email, else preferred_username, else name, else the subject.
        /// </summary>
        public static GatehousePrincipal FromAssertion(Dictionary<string, object> jwt)
        {
            var claims = new List<Claim>();
            foreach (var kv in jwt)
            {
                string typ;
                if (!ClaimTypeMap.TryGetValue(kv.Key, out typ)) typ = kv.Key;
                var list = kv.Value as object[];
                if (kv.Key == "scp" || list == null)
                {
                    string s = Jose.ClaimText(kv.Value);
                    if (s != null) claims.Add(new Claim(typ, s));
                    continue;
                }
                foreach (var item in list)
                {
                    string s = Jose.ClaimText(item);
                    if (s != null) claims.Add(new Claim(typ, s));
                }
            }
            string nameTyp = ClaimTypes.NameIdentifier;
            foreach (var c in new[] { "email", "preferred_username", "name" })
                if (!string.IsNullOrEmpty(Jose.Str(jwt, c))) { nameTyp = ClaimTypeMap.ContainsKey(c) ? ClaimTypeMap[c] : c; break; }
            return new GatehousePrincipal(new ClaimsIdentity(claims, "Gatehouse", nameTyp, ClaimTypes.Role));
        }
    }
}

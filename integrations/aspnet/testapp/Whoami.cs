using System.Collections.Generic;
using System.Security.Claims;
using System.Threading;
using System.Web;
using System.Web.Mvc;
using System.Web.Script.Serialization;

namespace Gatehouse.TestApp
{
    /// <summary>
    /// Reports what application code sees: User.Identity.Name, IsInRole for "admins" and each
    /// ?role=, MVC's [Authorize(Roles=…)] decision, the claims, Thread.CurrentPrincipal,
    /// ClaimsPrincipal.Current, and whether the identity headers are still readable.
    /// </summary>
    public sealed class Whoami : IHttpHandler
    {
        public bool IsReusable { get { return true; } }

        public void ProcessRequest(HttpContext ctx)
        {
            var user = ctx.User;
            var roles = new Dictionary<string, bool> { { "admins", user != null && user.IsInRole("admins") } };
            foreach (var r in ctx.Request.QueryString.GetValues("role") ?? new string[0]) roles[r] = user != null && user.IsInRole(r);
            var authorize = new Dictionary<string, bool>();
            foreach (var r in roles.Keys) authorize[r] = AuthorizeProbe.Allows(ctx, r);
            var claims = new List<object>();
            var cp = user as ClaimsPrincipal;
            if (cp != null) foreach (var c in cp.Claims) claims.Add(new Dictionary<string, string> { { "type", c.Type }, { "value", c.Value } });
            var headers = new Dictionary<string, object>();
            foreach (var h in (ctx.Request.QueryString["header"] ?? "X-Gatehouse-Assertion").Split(','))
            {
                string sv = "HTTP_" + h.ToUpperInvariant().Replace('-', '_');
                headers[h] = new Dictionary<string, object>
                {
                    { "headers", ctx.Request.Headers[h] },
                    { "serverVariables", ctx.Request.ServerVariables[sv] },
                    { "params", ctx.Request.Params[sv] },
                    { "allHttpContains", (ctx.Request.ServerVariables["ALL_HTTP"] ?? "").Contains(sv) },
                };
            }
            var current = ClaimsPrincipal.Current;
            var o = new Dictionary<string, object>
            {
                { "authenticated", user != null && user.Identity.IsAuthenticated },
                { "name", user == null ? null : user.Identity.Name },
                { "authenticationType", user == null ? null : user.Identity.AuthenticationType },
                { "principalType", user == null ? null : user.GetType().FullName },
                { "isInRole", roles },
                { "authorize", authorize },
                { "threadPrincipalName", Thread.CurrentPrincipal == null ? null : Thread.CurrentPrincipal.Identity.Name },
                { "claimsPrincipalCurrentName", current == null ? null : current.Identity.Name },
                { "claims", claims },
                { "headers", headers },
                { "remoteAddr", ctx.Request.ServerVariables["REMOTE_ADDR"] },
            };
            ctx.Response.ContentType = "application/json";
            ctx.Response.Write(new JavaScriptSerializer().Serialize(o));
        }
    }

    /// <summary>MVC's own AuthorizeAttribute decision, as [Authorize(Roles = role)] would take it.</summary>
    sealed class AuthorizeProbe : AuthorizeAttribute
    {
        public static bool Allows(HttpContext ctx, string role)
        {
            return new AuthorizeProbe { Roles = role }.AuthorizeCore(new HttpContextWrapper(ctx));
        }
    }
}

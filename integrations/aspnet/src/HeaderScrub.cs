using System;
using System.Collections.Specialized;
using System.Reflection;
using System.Web;

namespace Gatehouse.AspNet
{
    /// <summary>
    /// Removes identity headers from the request so application code cannot read unverified
    /// copies. On IIS's integrated pipeline <c>Request.Headers.Remove</c> is supported (and IIS
    /// keeps the HTTP_* server variable in sync). The classic pipeline (and Mono) exposes a
    /// read-only collection; then the entry is removed through NameObjectCollectionBase's
    /// protected members, from Headers and ServerVariables. The raw ALL_HTTP / ALL_RAW server
    /// variables of the classic pipeline are not rewritten: see README "Limits".
    /// </summary>
    public static class HeaderScrub
    {
        const BindingFlags Prot = BindingFlags.Instance | BindingFlags.NonPublic;
        static readonly PropertyInfo ReadOnlyProp = typeof(NameObjectCollectionBase).GetProperty("IsReadOnly", Prot);
        static readonly MethodInfo BaseRemove = typeof(NameObjectCollectionBase).GetMethod("BaseRemove", Prot, null, new[] { typeof(string) }, null);
        static readonly MethodInfo Invalidate = typeof(NameValueCollection).GetMethod("InvalidateCachedArrays", Prot);

        public static void Remove(HttpRequest req, string header)
        {
            if (req.Headers[header] != null)
            {
                try { req.Headers.Remove(header); }
                catch (NotSupportedException)   // PlatformNotSupportedException too
                {
                    ForceRemove(req.Headers, header);
                }
            }
            string sv = "HTTP_" + header.ToUpperInvariant().Replace('-', '_');
            NameValueCollection vars;
            try { vars = req.ServerVariables; }
            catch (Exception) { return; }
            if (vars[sv] == null) return;
            try { vars.Remove(sv); }
            catch (NotSupportedException)
            {
                ForceRemove(vars, sv);
            }
        }

        static int reported;

        static void ForceRemove(NameValueCollection c, string name)
        {
            if (System.Threading.Interlocked.Exchange(ref reported, 1) == 0)
                Log.Info(c.GetType().Name + " is read-only here (classic pipeline): identity headers are removed through NameObjectCollectionBase");
            bool ro = (bool)ReadOnlyProp.GetValue(c, null);
            ReadOnlyProp.SetValue(c, false, null);
            try
            {
                BaseRemove.Invoke(c, new object[] { name });
                if (Invalidate != null) Invalidate.Invoke(c, null);
            }
            finally { ReadOnlyProp.SetValue(c, ro, null); }
        }
    }
}

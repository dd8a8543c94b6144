using System;
using System.Collections.Generic;
using System.Globalization;
using System.Web.Script.Serialization;

namespace Gatehouse.AspNet
{
    /// <summary>base64url and JSON helpers (framework classes only: JavaScriptSerializer).</summary>
    public static class Jose
    {
        /// <summary>Decodes base64url (RFC 7515 §2, no padding); throws FormatException.</summary>
        public static byte[] Base64UrlDecode(string s)
        {
            if (s.IndexOf('=') >= 0 || s.IndexOf('+') >= 0 || s.IndexOf('/') >= 0)
                throw new FormatException("not base64url");
            string b = s.Replace('-', '+').Replace('_', '/');
            switch (b.Length % 4)
            {
                case 0: break;
                case 2: b += "=="; break;
                case 3: b += "="; break;
                default: throw new FormatException("bad base64url length");
            }
            return Convert.FromBase64String(b);
        }

        /// <summary>Parses a JSON object; throws FormatException if it is not one.</summary>
        public static Dictionary<string, object> ParseObject(string json)
        {
            var ser = new JavaScriptSerializer { MaxJsonLength = 1024 * 1024, RecursionLimit = 32 };
            object o;
            try { o = ser.DeserializeObject(json); }
            catch (ArgumentException e) { throw new FormatException("invalid JSON: " + e.Message); }
            catch (InvalidOperationException e) { throw new FormatException("invalid JSON: " + e.Message); }
            var d = o as Dictionary<string, object>;
            if (d == null) throw new FormatException("JSON is not an object");
            return d;
        }

        public static string Str(Dictionary<string, object> d, string key)
        {
            object v;
            return d.TryGetValue(key, out v) ? v as string : null;
        }

        /// <summary>A NumericDate claim (RFC 7519) as seconds, or null when absent or not a number.</summary>
        public static double? Num(Dictionary<string, object> d, string key)
        {
            object v;
            if (!d.TryGetValue(key, out v) || v == null || v is string || v is bool) return null;
            try { return Convert.ToDouble(v, CultureInfo.InvariantCulture); }
            catch (InvalidCastException) { return null; }
            catch (FormatException) { return null; }
        }

        /// <summary>A claim value as App Service sends it: strings as is, numbers and booleans as text, objects as JSON.</summary>
        public static string ClaimText(object v)
        {
            if (v == null) return null;
            var s = v as string;
            if (s != null) return s;
            if (v is bool) return (bool)v ? "true" : "false";
            if (v is IConvertible) return Convert.ToString(v, CultureInfo.InvariantCulture);
            return new JavaScriptSerializer().Serialize(v);
        }
    }
}

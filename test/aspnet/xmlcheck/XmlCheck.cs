using System;
using System.Text;
using System.Xml;

namespace Gatehouse.Tests
{
    /// <summary>
    /// Parses each file given with .NET's XmlDocument and prints, per file, "=== file", then
    /// "OK" or "ERROR message", then one line per element ("E path") and attribute
    /// ("A path@name=value"). The IIS guide's test (test/aspnet/iis-guide.test.ts) checks the
    /// IIS-only blocks of docs/iis.md this way, since Mono has no IIS to load them.
    /// </summary>
    public static class XmlCheck
    {
        static void Walk(XmlElement e, string parent, StringBuilder o)
        {
            string path = parent.Length == 0 ? e.Name : parent + "/" + e.Name;
            o.Append("E ").Append(path).Append('\n');
            foreach (XmlAttribute a in e.Attributes) o.Append("A ").Append(path).Append('@').Append(a.Name).Append('=').Append(a.Value).Append('\n');
            foreach (XmlNode c in e.ChildNodes)
            {
                var ce = c as XmlElement;
                if (ce != null) Walk(ce, path, o);
            }
        }

        public static int Main(string[] files)
        {
            var o = new StringBuilder();
            foreach (var f in files)
            {
                o.Append("=== ").Append(f).Append('\n');
                var doc = new XmlDocument();
                try { doc.Load(f); }
                catch (XmlException e) { o.Append("ERROR ").Append(e.Message.Replace('\n', ' ')).Append('\n'); continue; }
                o.Append("OK\n");
                Walk(doc.DocumentElement, "", o);
            }
            Console.Out.Write(o.ToString());
            return 0;
        }
    }
}

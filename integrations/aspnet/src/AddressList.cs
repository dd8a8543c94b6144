using System;
using System.Collections.Generic;
using System.Configuration;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.AspNet
{
    /// <summary>
    /// Addresses and CIDR ranges (e.g. "10.20.0.15, 10.20.1.0/24, ::1") of the Gatehouse
    /// instances. IPv4-mapped IPv6 addresses (::ffff:10.20.0.15) match their IPv4 form.
    /// </summary>
    public sealed class AddressList
    {
        readonly List<KeyValuePair<byte[], int>> ranges = new List<KeyValuePair<byte[], int>>();

        public bool IsEmpty { get { return ranges.Count == 0; } }

        public static AddressList Parse(string text, string settingName)
        {
            var list = new AddressList();
            foreach (var part in text.Split(new[] { ',', ' ', ';' }, StringSplitOptions.RemoveEmptyEntries))
            {
                string ip = part;
                int bits = -1;
                int slash = part.IndexOf('/');
                if (slash >= 0)
                {
                    ip = part.Substring(0, slash);
                    if (!int.TryParse(part.Substring(slash + 1), out bits)) bits = -2;
                }
                IPAddress addr;
                if (!IPAddress.TryParse(ip, out addr))
                    throw new ConfigurationErrorsException("appSettings " + settingName + ": \"" + part + "\" is not an IP address or CIDR range");
                byte[] bytes = Normalize(addr).GetAddressBytes();
                int max = bytes.Length * 8;
                if (bits == -1) bits = max;
                if (bits < 0 || bits > max)
                    throw new ConfigurationErrorsException("appSettings " + settingName + ": bad prefix length in \"" + part + "\"");
                list.ranges.Add(new KeyValuePair<byte[], int>(bytes, bits));
            }
            return list;
        }

        /// <summary>True when <paramref name="remoteAddr"/> (REMOTE_ADDR) is in the list.</summary>
        public bool Contains(string remoteAddr)
        {
            IPAddress addr;
            if (string.IsNullOrEmpty(remoteAddr) || !IPAddress.TryParse(remoteAddr, out addr)) return false;
            byte[] b = Normalize(addr).GetAddressBytes();
            foreach (var r in ranges)
                if (r.Key.Length == b.Length && PrefixEquals(r.Key, b, r.Value)) return true;
            return false;
        }

        static IPAddress Normalize(IPAddress a)
        {
            if (a.AddressFamily != AddressFamily.InterNetworkV6) return a;
            byte[] b = a.GetAddressBytes();
            for (int i = 0; i < 10; i++) if (b[i] != 0) return a;
            if (b[10] != 0xff || b[11] != 0xff) return a;
            return new IPAddress(new[] { b[12], b[13], b[14], b[15] });
        }

        static bool PrefixEquals(byte[] a, byte[] b, int bits)
        {
            int full = bits / 8;
            for (int i = 0; i < full; i++) if (a[i] != b[i]) return false;
            int rest = bits % 8;
            if (rest == 0) return true;
            int mask = 0xff << (8 - rest) & 0xff;
            return (a[full] & mask) == (b[full] & mask);
        }
    }
}

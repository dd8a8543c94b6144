// Trace.* calls are [Conditional("TRACE")]: defined here so every build (csc, mcs, msbuild) keeps them.
#define TRACE
using System;
using System.Diagnostics;

namespace Gatehouse.AspNet
{
    /// <summary>
    /// System.Diagnostics.Trace output (source "Gatehouse"), plus the Windows Application event
    /// log when an event source named "Gatehouse.AspNet" exists. Creating an event source needs
    /// administrator rights, so the module never creates it: run once, elevated,
    /// <c>New-EventLog -LogName Application -Source Gatehouse.AspNet</c>. Event log entries are
    /// capped at 10 a minute (a scanner hitting IIS directly must not flood it); Trace gets every
    /// line. Control characters (from request paths) are replaced, so a line cannot be forged.
    /// Never throws.
    /// </summary>
    public static class Log
    {
        public const string EventSource = "Gatehouse.AspNet";
        static readonly Lazy<bool> eventLog = new Lazy<bool>(() =>
        {
            if (Environment.OSVersion.Platform != PlatformID.Win32NT) return false;
            try { return EventLog.SourceExists(EventSource); }
            catch (Exception) { return false; }
        });

        const int EventsPerMinute = 10;
        static readonly object gate = new object();
        static DateTime windowStart = DateTime.MinValue;
        static int windowCount;

        public static void Info(string message)
        {
            try { Trace.TraceInformation("Gatehouse: " + Clean(message)); } catch (Exception) { }
        }

        public static void Warn(string message)
        {
            message = Clean(message);
            try { Trace.TraceWarning("Gatehouse: " + message); } catch (Exception) { }
            if (!eventLog.Value || !EventAllowed()) return;
            try { EventLog.WriteEntry(EventSource, message, EventLogEntryType.Warning, 1001); }
            catch (Exception) { }
        }

        static bool EventAllowed()
        {
            lock (gate)
            {
                var now = DateTime.UtcNow;
                if (now - windowStart > TimeSpan.FromMinutes(1)) { windowStart = now; windowCount = 0; }
                return ++windowCount <= EventsPerMinute;
            }
        }

        static string Clean(string s)
        {
            if (s == null) return "";
            var b = new System.Text.StringBuilder(s.Length);
            foreach (char c in s) b.Append(char.IsControl(c) ? '?' : c);
            return b.ToString();
        }
    }
}

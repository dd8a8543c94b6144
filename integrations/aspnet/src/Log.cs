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
    /// <c>New-EventLog -LogName Application -Source Gatehouse.AspNet</c>. Never throws.
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

        public static void Info(string message)
        {
            try { Trace.TraceInformation("Gatehouse: " + message); } catch (Exception) { }
        }

        public static void Warn(string message)
        {
            try { Trace.TraceWarning("Gatehouse: " + message); } catch (Exception) { }
            if (!eventLog.Value) return;
            try { EventLog.WriteEntry(EventSource, message, EventLogEntryType.Warning, 1001); }
            catch (Exception) { }
        }
    }
}

using System.Diagnostics;
using System.Text.Json;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Cluster.Cli;

/// <summary>Writes the ExCache and translator counters of a finished guest as JSON (<c>legoemu run --stats-json FILE</c>), for tools such as <c>regress</c>.</summary>
public static class StatsJsonWriter
{
    /// <summary>Writes the counters; a file that cannot be written is reported on stderr but does not change the guest's status.</summary>
    public static void Write(string path, GuestProcess process, double seconds)
    {
        var s = process.Cache.Stats;
        var cfg = process.Cache.Config;
        long accesses = process.View.Accesses;
        try
        {
            using var stream = File.Create(path);
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteNumber("seconds", seconds);
            w.WriteNumber("instructions", process.InstructionsRetired);
            w.WriteNumber("excacheBytes", cfg.Size);
            w.WriteNumber("lineBytes", cfg.LineSize);
            w.WriteNumber("ways", cfg.Ways);
            w.WriteString("policy", cfg.Policy.ToString().ToLowerInvariant());
            w.WriteNumber("accesses", accesses);
            w.WriteNumber("lookups", s.Lookups);
            w.WriteNumber("hits", s.Hits);
            w.WriteNumber("misses", s.Misses);
            w.WriteNumber("missRatio", accesses == 0 ? 0 : (double)s.Misses / accesses);
            w.WriteNumber("plocalFills", s.PLocalFills);
            w.WriteNumber("remoteFills", s.RemoteFills);
            w.WriteNumber("evictions", s.Evictions);
            w.WriteNumber("writeBacks", s.WriteBacks);
            w.WriteNumber("piggybackedWriteBacks", s.PiggybackedWriteBacks);
            w.WriteNumber("queuedWriteBacks", s.QueuedWriteBacks);
            w.WriteNumber("queueFills", s.QueueFills);
            w.WriteNumber("prefetchIssued", s.PrefetchIssued);
            w.WriteNumber("prefetchUsed", s.PrefetchUsed);
            w.WriteNumber("prefetchWasted", s.PrefetchWasted);
            w.WriteNumber("prefetchLate", s.PrefetchLate);
            w.WriteNumber("prefetchPolluted", s.PrefetchPolluted);
            w.WriteNumber("prefetchDepthCuts", s.PrefetchDepthCuts);
            w.WriteNumber("prefetchDepthRaises", s.PrefetchDepthRaises);
            w.WriteNumber("prefetchStops", s.PrefetchStops);
            w.WriteNumber("prefetchTrials", s.PrefetchTrials);
            w.WriteNumber("bytesFilled", s.BytesFilled);
            w.WriteNumber("bytesWrittenBack", s.BytesWrittenBack);
            w.WriteNumber("meanMissMicros", s.Misses == 0 ? 0 : s.MissTicks * 1e6 / Stopwatch.Frequency / s.Misses);
            // Summed over every processor component when the threads were spread (run --processors).
            var (upgrades, invalidations, downgrades) = process.CoherenceTraffic;
            w.WriteNumber("processorComponents", process.Components.Count + 1);
            w.WriteNumber("upgrades", upgrades);
            w.WriteNumber("invalidations", invalidations);
            w.WriteNumber("downgrades", downgrades);
            // What --stats says of the translator: instructions translated and interpreted, regions, compile time.
            process.WriteTierStats(w, process.InstructionsRetired);
            // Over memory nodes: the copies of each vRegion (run --replicas) and the nodes this run survived losing.
            if (process.Space.Home is LegoEmu.Mem.Remote.MemoryCluster cluster)
            {
                w.WriteNumber("replicas", cluster.Replicas);
                w.WriteNumber("memoryNodesFailed", cluster.FailedNodes);
                // Misses and write-backs served by a copy out of or into a frame a same-host node granted (no message).
                var (oneSidedFills, oneSidedWriteBacks) = cluster.OneSidedTraffic;
                w.WriteNumber("oneSidedFills", oneSidedFills);
                w.WriteNumber("oneSidedWriteBacks", oneSidedWriteBacks);
            }
            w.WriteEndObject();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"legoemu: cannot write --stats-json {path}: {e.Message}");
        }
    }
}

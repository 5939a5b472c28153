package io.posteriors.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Reads CPU time, resident memory and load from Linux's /proc (no DJL: safe in the host JVM). */
final class Proc {

    private Proc() {}

    /**
     * Returns {total jiffies of all CPUs, idle jiffies, this process's user+system jiffies}, or
     * null where /proc is not readable.
     */
    static long[] cpuSnapshot() {
        try {
            String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i <= 8 && i < cpu.length; i++) {
                total += Long.parseLong(cpu[i]);
            }
            long idle = Long.parseLong(cpu[4]) + Long.parseLong(cpu[5]);
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
            // fields after the command: state is index 0, utime 11, stime 12
            long self = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            return new long[] {total, idle, self};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Returns this process's resident set size in kB (VmRSS), or -1. */
    static long rssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return -1;
    }

    /** Returns the first three fields of /proc/loadavg, or "unknown". */
    static String loadavg() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/loadavg"));
            String[] f = lines.get(0).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** Returns the number of processors the JVM sees. */
    static int cpus() {
        return Runtime.getRuntime().availableProcessors();
    }
}

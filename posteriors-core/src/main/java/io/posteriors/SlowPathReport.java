package io.posteriors;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports, once per model (or per class of function, for functions without a structure), that
 * per-sample gradients took the generic path (one reverse pass per sample) instead of the one-pass
 * path, with what the first call cost and why the fast path did not apply. A warning through SLF4J,
 * so that a user whose Laplace or EKF fit is slow learns the reason and the remedy from the log
 * rather than from a profiler.
 */
final class SlowPathReport {

    private static final Logger LOG = LoggerFactory.getLogger(Autodiff.class);
    private static final Map<Object, Boolean> REPORTED =
            Collections.synchronizedMap(new WeakHashMap<>());
    private static final AtomicLong COUNT = new AtomicLong();
    private static final AtomicReference<String> LAST = new AtomicReference<>();

    private SlowPathReport() {}

    /**
     * Reports the first generic per-sample call of {@code f}: {@code samples} took {@code nanos}.
     */
    static <B> void report(LogProbFn<B> f, long samples, long nanos) {
        // one report per model, or per class of function: a wrapper made afresh at every step
        // (PerSample.perSamplify's, say) has one class, so it is reported once, not every step
        Object key = f.structure().<Object>map(m -> m.model()).orElse(f.getClass());
        if (REPORTED.putIfAbsent(key, Boolean.TRUE) != null) {
            return;
        }
        String why =
                f.structure()
                        .map(
                                m -> {
                                    String layer = m.model().firstUncoveredLayer();
                                    return layer == null
                                            ? "the one-pass path does not cover its model (a"
                                                    + " parameter shared by two layers, or inputs"
                                                    + " that are not two-dimensional)"
                                            : "the one-pass path does not cover the layer "
                                                    + layer
                                                    + " of its model";
                                })
                        .orElse(
                                "it has no structure (a lambda, or a wrapper that hides a"
                                        + " ModelLogPosterior)");
        double ms = nanos / 1e6;
        String message =
                Checks.format(
                        "posteriors: per-sample gradients of %s took the generic path, one reverse"
                                + " pass per sample: %d samples in %.1f ms (%.2f ms per sample),"
                                + " because %s. A ModelLogPosterior whose model is built from"
                                + " Linear layers and parameter-free blocks gets them from one"
                                + " reverse pass (docs/core.md). Reported once per model or function class.",
                        f.getClass().getSimpleName().isEmpty()
                                ? "a function"
                                : "a " + f.getClass().getSimpleName(),
                        samples,
                        ms,
                        ms / Math.max(samples, 1),
                        why);
        LAST.set(message);
        COUNT.incrementAndGet();
        LOG.warn(message);
    }

    /** Returns how many reports were made in this JVM (for tests). */
    static long count() {
        return COUNT.get();
    }

    /** Returns the last report's text, or null (for tests). */
    static String last() {
        return LAST.get();
    }
}
